"""Sampling as configured: always-reasons and the deterministic random sample, recorded when the
decision is inserted (in the same transaction)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from decision_aid.extensions import db
from decision_aid.models.review import ReviewSelection, ReviewState
from decision_aid.review.sampling import in_random_sample
from tests.conftest import base_config
from tests.helpers import login_as, text_of
from tests.integration.review.conftest import Cast, hours_ago


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict[str, Any]:
    """The defaults' always-reasons with a 50% random sample, so both kinds occur."""
    return {**base_config(database_url, tmp_path), "REVIEW_SAMPLE_RATE": 0.5,
            "REVIEW_ALWAYS": "shared_without_consent,departed,emergency"}


def selection(app: Flask, decision: Any) -> tuple[str | None, str | None]:
    with app.app_context():
        chosen = db.session.get(ReviewSelection, decision.id)
        state = db.session.get(ReviewState, decision.id)
        assert state is not None, "every decision gets a review state when it is inserted"
        return (chosen.reason if chosen else None), state.review_status


def test_always_rules(app: Flask, cast: Cast, make_decision: Any) -> None:
    no_consent = make_decision(cast.author)  # preset: consent would prejudice protection, shared
    departed = make_decision(cast.author, outcome="do_not_share")
    emergency = make_decision(cast.author, recommendation="share_urgently")
    assert selection(app, no_consent) == ("shared_without_consent", "awaiting")
    assert selection(app, departed) == ("departed", "awaiting")
    assert selection(app, emergency)[0] in ("emergency", "shared_without_consent")


def test_random_sample_is_the_hash_rule(app: Flask, cast: Cast, make_decision: Any) -> None:
    made = [make_decision(cast.author, recommendation="do_not_share", submitted_at=hours_ago(i))
            for i in range(12)]
    for decision in made:
        expected = ("random_sample", "awaiting") if in_random_sample(decision.id, 0.5) else (None, None)
        assert selection(app, decision) == expected


def test_queue_shows_only_sampled_decisions_by_default(app: Flask, client: FlaskClient, cast: Cast,
                                                       make_decision: Any) -> None:
    made = [make_decision(cast.author, recommendation="do_not_share", submitted_at=hours_ago(i))
            for i in range(8)]
    login_as(client, cast.supervisor)
    html = text_of(client.get("/review"))
    for decision in made:
        assert (decision.reference in html) == in_random_sample(decision.id, 0.5)
    everything = text_of(client.get("/review?status=any"))
    assert all(d.reference in everything for d in made)


def test_nothing_sampled_when_switched_off(app: Flask, cast: Cast, make_decision: Any) -> None:
    app.config.update(REVIEW_SAMPLE_RATE=0.0, REVIEW_ALWAYS="")
    decision = make_decision(cast.author, outcome="do_not_share")
    assert selection(app, decision) == (None, None)


def test_completing_an_emergency_record_closes_it(app: Flask, client: FlaskClient, cast: Cast,
                                                 make_decision: Any) -> None:
    emergency = make_decision(cast.author, recommendation="share_urgently", submitted_at=hours_ago(48))
    login_as(client, cast.supervisor)
    assert emergency.reference in text_of(client.get("/review?status=any&emergency=overdue"))
    make_decision(cast.author, completes=emergency)
    with app.app_context():
        state = db.session.get(ReviewState, emergency.id)
        assert state is not None and state.emergency_open is False
    assert emergency.reference not in text_of(client.get("/review?status=any&emergency=overdue"))
