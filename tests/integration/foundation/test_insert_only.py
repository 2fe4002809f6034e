"""One ORM guard protects every insert-only model (decisions, audit events, reviews)."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import delete, update

from decision_aid.extensions import db
from decision_aid.models.base import ImmutableRowError
from decision_aid.models.decision import Decision
from tests.fixtures_users import MakeUser


def test_a_decision_cannot_be_changed_or_deleted_through_the_orm(
    app: Flask, make_user: MakeUser, make_decision: object
) -> None:
    practitioner = make_user(role="practitioner", teams=["North"])
    stored = make_decision(practitioner)  # type: ignore[operator]
    with app.app_context():
        decision = db.session.get(Decision, stored.id)
        assert decision is not None
        decision.outcome = "do_not_share"
        with pytest.raises(ImmutableRowError, match="record a new decision"):
            db.session.flush()
        db.session.rollback()
        with pytest.raises(ImmutableRowError):
            db.session.execute(update(Decision).values(outcome="share_all"))
        with pytest.raises(ImmutableRowError):
            db.session.execute(delete(Decision))
        db.session.rollback()
        db.session.delete(db.session.get(Decision, stored.id))
        with pytest.raises(ImmutableRowError, match="cannot be deleted"):
            db.session.flush()
