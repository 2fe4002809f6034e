"""The DPO overview shows when the scheduled verification last ran, and the last index check."""

from __future__ import annotations

import datetime as dt
import re

from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import text

from decision_aid.extensions import db
from decision_aid.models.decision import Decision
from tests.helpers import login_as, text_of
from tests.integration.review.conftest import Cast


def _verify(runner: FlaskCliRunner, *args: str) -> None:
    result = runner.invoke(args=["audit", "verify", *args])
    assert result.exit_code == 0, result.output


def _overview(client: FlaskClient, cast: Cast) -> str:
    """The page's words, tags removed and spaces collapsed."""
    login_as(client, cast.dpo)
    return " ".join(re.sub(r"<[^>]+>", " ", text_of(client.get("/dpo"))).split())


def test_no_recorded_verification_says_what_to_schedule(
        client: FlaskClient, cast: Cast, corpus: dict[str, Decision]) -> None:
    html = _overview(client, cast)
    assert "None recorded yet. Schedule flask audit verify ." in html
    assert "None recorded. Schedule flask audit verify --indexes" in html


def test_recorded_runs_are_shown_with_the_last_index_check(
        app, client: FlaskClient, runner: FlaskCliRunner, cast: Cast,
        corpus: dict[str, Decision], database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        with app.app_context(), db.engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS amcheck"))
    _verify(runner, "--indexes")
    clock = app.extensions["clock"]
    clock.advance(days=1)
    _verify(runner)  # a later run without the index check
    html = _overview(client, cast)
    assert "every index matched" in html
    assert "None recorded" not in html
    latest = clock().strftime("%d %B %Y")
    earlier = (clock() - dt.timedelta(days=1)).strftime("%d %B %Y")
    last_check = html.split("Last recorded verification", 1)[1].split("Last index check", 1)[0]
    last_index = html.split("Last index check", 1)[1]
    assert latest in last_check
    assert earlier in last_index and latest not in last_index
