"""Replay: the stored facts under the current rules, and under a changed rule set."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

import rules
from decision_aid.extensions import db
from decision_aid.models.decision import Decision
from decision_aid.review.replay import replay
from tests.helpers import login_as, text_of
from tests.integration.review.conftest import Cast

RULE = "  - id: outcome.lawful_to_share\n"
EXTRA = "            - {fact: immediate_risk, is: true}\n"


def changed_ruleset(tmp_path: Path) -> Any:
    """A copy of the rule set in which 'lawful to share' also needs an immediate risk."""
    target = tmp_path / "rules-changed"
    shutil.copytree(rules.load_ruleset().directory, target,
                    ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    path = target / "definitions" / "95_outcome.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index(RULE)
    anchor = text.index("            - {rule: confidence.ok}\n", start)
    path.write_text(text[:anchor] + EXTRA + text[anchor:], encoding="utf-8")
    (target / "VERSION").write_text("99.0.0-test\n", encoding="utf-8")
    return rules.load_ruleset(target)


def test_replay_under_the_same_rules_shows_no_differences(client: FlaskClient, cast: Cast,
                                                          make_decision: Any) -> None:
    decision = make_decision(cast.author)
    login_as(client, cast.supervisor)
    html = text_of(client.get(f"/review/decisions/{decision.id}/replay"))
    assert "No differences" in html and decision.ruleset_version in html


def test_replay_after_a_rule_change(app: Flask, cast: Cast, make_decision: Any, tmp_path: Path) -> None:
    decision = make_decision(cast.author)
    modified = changed_ruleset(tmp_path)
    with app.app_context():
        stored = db.session.get(Decision, decision.id)
        assert stored is not None
        before = (stored.recommendation, dict(stored.result))
        report = replay(stored, ruleset=modified)
        db.session.expire_all()
        again = db.session.get(Decision, decision.id)
        assert again is not None and (again.recommendation, again.result) == before
    assert report["stored_version"] == decision.ruleset_version
    assert report["current_version"] == "99.0.0-test" and not report["same_ruleset"]
    recommendation = next(row for row in report["rows"] if row["key"] == "recommendation")
    assert recommendation["stored"] == "lawful_to_share"
    assert recommendation["changed"] and recommendation["current"] != "lawful_to_share"


def test_replay_page_uses_the_app_rule_set(app: Flask, client: FlaskClient, cast: Cast, make_decision: Any,
                                           tmp_path: Path) -> None:
    decision = make_decision(cast.author)
    app.extensions["ruleset"] = changed_ruleset(tmp_path)
    login_as(client, cast.dpo)
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Decision))
    html = text_of(client.get(f"/review/decisions/{decision.id}/replay"))
    assert "99.0.0-test" in html and "Differs" in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Decision)) == count
