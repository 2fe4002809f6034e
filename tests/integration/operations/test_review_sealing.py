"""T34 for review reasons: sealed under the case key and bound to the row; migration 0007 seals
clear reasons written before it (unseals on downgrade) and leaves the review table append-only."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import Uuid, bindparam, inspect, text
from sqlalchemy.exc import DBAPIError

from decision_aid import clock, crypto
from decision_aid.audit import verify_chain
from decision_aid.extensions import db
from decision_aid.models import User
from decision_aid.models.decision import Decision
from decision_aid.models.review import Review
from decision_aid.review.service import record_verdict

CASE = "CASE-70001"
REASONS = "Share the dates only MIGRATION-SENTINEL-QX"
BEFORE, SEALING = "0006_operations", "0007_review_sealing"


def _raw_review(review_id: Any) -> Any:
    query = text("SELECT * FROM review WHERE id = :id").bindparams(bindparam("id", type_=Uuid()))
    return db.session.execute(query, {"id": review_id}).mappings().one()


def _verdict(decision: Decision, supervisor: User, reasons: str) -> Review:
    return record_verdict(db.session.get(Decision, decision.id),
                          db.session.get(User, supervisor.id), "disagree", reasons)


def test_upgrade_seals_clear_reasons_and_downgrade_restores_them(
        app: Flask, make_decision: Any, make_user: Any, practitioner: Any) -> None:
    decision = make_decision(practitioner, case_ref=CASE)
    supervisor = make_user("supervisor", teams=["North"])
    with app.app_context():
        review = _verdict(decision, supervisor, REASONS)
        review_id = review.id
        db.session.remove()

        downgrade(revision=BEFORE)  # as if the review had been written before 0007
        db.session.remove()
        columns = {c["name"] for c in inspect(db.engine).get_columns("review")}
        assert "content_ciphertext" not in columns
        assert _raw_review(review_id)["reasons"] == REASONS
        db.session.remove()

        upgrade(revision=SEALING)
        db.session.remove()
        row = _raw_review(review_id)
        assert (row["reasons"], row["case_ref"]) == ("", CASE)
        assert b"MIGRATION-SENTINEL" not in bytes(row["content_ciphertext"])
        db.session.remove()
        assert db.session.get(Review, review.id).reasons == REASONS
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text("UPDATE review SET verdict = 'agree'"))
        db.session.rollback()
        upgrade()  # the verifier expects the audit table of the latest revision (0010)
        db.session.remove()
        assert verify_chain().ok


def test_reasons_are_ciphertext_bound_to_the_row(app: Flask, make_decision: Any, make_user: Any,
                                                  practitioner: Any) -> None:
    decision = make_decision(practitioner, case_ref=CASE)
    supervisor = make_user("supervisor", teams=["North"])
    with app.app_context():
        review = _verdict(decision, supervisor, f"  {REASONS}  ")
        row = _raw_review(review.id)
        blob = bytes(row["content_ciphertext"])
        assert (row["reasons"], row["case_ref"]) == ("", CASE) and b"MIGRATION-SENTINEL" not in blob
        db.session.remove()
        assert db.session.get(Review, review.id).reasons == REASONS  # stripped, then sealed
        with pytest.raises(crypto.DecryptionError):  # the same blob read as another row's
            crypto.decrypt_json(blob, table="review", column="content_ciphertext",
                                row_id=decision.id)


def test_a_review_without_case_ref_is_refused_with_a_clear_message(
        app: Flask, make_decision: Any, make_user: Any, practitioner: Any) -> None:
    decision = make_decision(practitioner, case_ref=CASE)
    supervisor = make_user("supervisor", teams=["North"])
    with app.app_context():
        db.session.add(Review(decision_id=decision.id, reviewer_id=supervisor.id, verdict="agree",
                              reasons="no key to seal under", created_at=clock.now()))
        with pytest.raises(ValueError, match="needs a case_ref"):
            db.session.flush()
        db.session.rollback()


def test_upgrade_blanks_reasons_of_a_case_disposed_before_it(
        app: Flask, make_decision: Any, make_user: Any, practitioner: Any) -> None:
    """Pre-0007 disposal left review reasons in clear: the upgrade must not re-key them."""
    decision = make_decision(practitioner, case_ref=CASE)
    supervisor = make_user("supervisor", teams=["North"])
    with app.app_context():
        review_id = _verdict(decision, supervisor, REASONS).id
        db.session.remove()
        downgrade(revision=BEFORE)
        db.session.remove()
        crypto.destroy_case_keys(CASE, actor_id=None, rule="test")  # disposal as 0006 did it:
        db.session.commit()
        crypto.forget_cached_keys()
        assert _raw_review(review_id)["reasons"] == REASONS  # the reasons stayed in clear
        db.session.remove()

        upgrade(revision=SEALING)
        db.session.remove()
        row = _raw_review(review_id)
        assert (row["reasons"], row["content_ciphertext"]) == ("", None)
        live = db.session.execute(text(
            "SELECT count(*) FROM case_key WHERE case_ref = :c AND destroyed_at IS NULL"),
            {"c": CASE}).scalar_one()
        assert live == 0  # no new key was minted for the disposed case
        db.session.remove()
        assert db.session.get(Review, review_id).reasons_text == ""
