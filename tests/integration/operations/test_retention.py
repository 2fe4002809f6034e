"""T35/T38: the retention job shreds exactly the expired cases, keeps the chain, and is idempotent."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import Flask, render_template
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from decision_aid import clock
from decision_aid.audit import verify_chain
from decision_aid.clock import FakeClock
from decision_aid.crypto import DISPOSED_TEXT, TOMBSTONE
from decision_aid.extensions import db
from decision_aid.models import AuditEvent
from decision_aid.models.decision import Decision, Draft
from decision_aid.models.operations import CaseKey, Complaint
from decision_aid.models.review import Review
from decision_aid.operations.subject_access import build_export
from tests.helpers import login_as, submit, text_of
from tests.integration.operations.helpers import (
    postgres_columns_contain,
    sentinel_sharing,
    sqlite_files_contain,
)

OLD, NEW = "CASE-80001", "CASE-80002"


def _wrapped_keys(app: Flask, case_ref: str) -> list[bytes]:
    with app.app_context():
        return [bytes(k) for k in db.session.scalars(
            select(CaseKey.wrapped_key).where(CaseKey.case_ref == case_ref)) if k]


def test_retention_run_disposes_of_expired_cases_only(
        app: Flask, runner: FlaskCliRunner, client: FlaskClient, fake_clock: FakeClock,
        make_decision: Any, practitioner: Any, dpo: Any, database_url: str) -> None:
    old_sharing, old_sentinels = sentinel_sharing("OLD")
    new_sharing, _ = sentinel_sharing("NEW")
    start = fake_clock.current
    old = make_decision(practitioner, case_ref=OLD, sharing=old_sharing,
                        submitted_at=start - dt.timedelta(days=7 * 366))
    new = make_decision(practitioner, case_ref=NEW, sharing=new_sharing)
    with app.app_context():
        now = clock.now()
        db.session.add(Draft(practitioner_id=practitioner.id, case_ref=NEW, as_at=now.date(),
                             answers={}, sharing={}, created_at=now - dt.timedelta(days=40),
                             updated_at=now - dt.timedelta(days=40)))
        db.session.commit()
    old_wrapped = _wrapped_keys(app, OLD)
    assert old_wrapped

    result = runner.invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    assert "1 abandoned drafts deleted; 1 cases disposed of (decision_retention_years=7)" in result.output

    with app.app_context():
        gone = db.session.get(Decision, old.id)
        assert gone.sharing == {"disposed": True} and gone.answers == {"disposed": True}
        assert gone.recommendation == old.recommendation  # the clear, non-identifying columns stay
        kept = db.session.get(Decision, new.id)
        assert kept.sharing["reasons"] == new_sharing["reasons"]
        assert db.session.scalar(select(Draft.id)) is None
        key = db.session.scalars(select(CaseKey).where(CaseKey.case_ref == OLD)).one()
        assert key.wrapped_key is None and key.destroyed_at == fake_clock.current
        assert key.destroy_rule == "decision_retention_years=7"
        tomb = db.session.scalars(select(AuditEvent).where(
            AuditEvent.event_type == "case.disposed")).all()
        assert [(t.case_ref, t.actor_id) for t in tomb] == [(OLD, None)]
        assert b"decision_retention_years=7" in tomb[0].payload
        assert verify_chain().ok
        count = db.session.scalar(select(db.func.count()).select_from(AuditEvent))
        db.session.remove()

    if database_url.startswith("sqlite"):
        assert not sqlite_files_contain(database_url, old_sentinels)
        assert not sqlite_files_contain(database_url, old_wrapped, raw=True)
    else:
        with app.app_context(), db.engine.connect() as conn:
            assert postgres_columns_contain(conn, [*old_sentinels, *old_wrapped]) == []

    login_as(client, dpo)
    export = json.loads(client.get(f"/dpo/operations/subject-access/export.json?case_ref={OLD}").data)
    assert export["decisions"][0]["disposed"] is True
    assert not any(s in json.dumps(export) for s in old_sentinels)

    again = runner.invoke(args=["retention", "run"])
    assert again.exit_code == 0 and "0 cases disposed of" in again.output
    with app.app_context():
        after = db.session.scalar(select(db.func.count()).select_from(AuditEvent))
        assert after == count + 1  # only the export's access event: the re-run changed nothing
        assert verify_chain().ok


def test_a_case_with_a_recent_decision_is_kept(
        app: Flask, runner: FlaskCliRunner, fake_clock: FakeClock, make_decision: Any,
        practitioner: Any) -> None:
    make_decision(practitioner, case_ref=OLD, submitted_at=fake_clock.current - dt.timedelta(days=3000))
    make_decision(practitioner, case_ref=OLD)
    assert "0 cases disposed of" in runner.invoke(args=["retention", "run"]).output
    fake_clock.advance(days=7 * 366)
    assert "1 cases disposed of" in runner.invoke(args=["retention", "run"]).output
    with app.app_context():
        assert verify_chain().ok


REVIEW_SENTINEL = "SENTINEL-REVIEW-REASONS-QX"
COMPLAINT_SENTINEL = "SENTINEL-COMPLAINT-SUMMARY-QX"
KEPT_SENTINEL = "SENTINEL-KEPT-REVIEW-QX"


def _stored_anywhere(app: Flask, database_url: str, needles: list[str]) -> list[str]:
    """Needles found in the SQLite file and WAL, or (PostgreSQL) in any text/JSON/bytea column."""
    if database_url.startswith("sqlite"):
        return sqlite_files_contain(database_url, needles)
    with app.app_context(), db.engine.connect() as conn:
        return postgres_columns_contain(conn, needles)


def _review_and_complain(app: Flask, dpo_client: FlaskClient, supervisor: Any,
                         old: Decision, new: Decision) -> None:
    """Verdicts with reasons on both decisions and a complaint on the old one, through the pages."""
    reviewer = app.test_client()
    login_as(reviewer, supervisor)
    for decision, reasons in ((old, REVIEW_SENTINEL), (new, KEPT_SENTINEL)):
        response = submit(reviewer, f"/review/decisions/{decision.id}",
                          {"verdict": "agree_with_conditions",
                           "reasons": f"Only the dates: {reasons}"})
        assert response.status_code == 302, text_of(response)[:2000]
    assert REVIEW_SENTINEL in text_of(reviewer.get(f"/review/decisions/{old.id}"))
    response = submit(dpo_client, f"/dpo/operations/decisions/{old.id}/complaints/new",
                      {"received_on": ["19", "6", "2026"],
                       "summary": f"Shared too widely {COMPLAINT_SENTINEL}"})
    assert response.status_code == 302, text_of(response)[:2000]


def test_disposal_destroys_review_reasons_and_complaint_summaries(
        app: Flask, runner: FlaskCliRunner, dpo_client: FlaskClient, fake_clock: FakeClock,
        make_decision: Any, make_user: Any, practitioner: Any, database_url: str) -> None:
    """T35 for the free text tied to a decision but stored beside it: review reasons, complaints."""
    expired = fake_clock.current - dt.timedelta(days=7 * 366)
    old = make_decision(practitioner, case_ref=OLD, submitted_at=expired)
    new = make_decision(practitioner, case_ref=NEW)
    supervisor = make_user("supervisor", teams=["North"])
    _review_and_complain(app, dpo_client, supervisor, old, new)
    export_url = f"/dpo/operations/subject-access/export.json?case_ref={OLD}"
    before = json.loads(dpo_client.get(export_url).data)
    reasons = before["decisions"][0]["reviews"][0]["reasons"]
    assert reasons["value"] == f"Only the dates: {REVIEW_SENTINEL}" and reasons["redact_review"]
    assert COMPLAINT_SENTINEL in before["complaints"][0]["summary"]["value"]
    sentinels = [REVIEW_SENTINEL, COMPLAINT_SENTINEL, KEPT_SENTINEL]
    assert _stored_anywhere(app, database_url, sentinels) == []  # sealed from the start
    assert _stored_anywhere(app, database_url, [OLD]) != []  # the search does find clear values

    result = runner.invoke(args=["retention", "run"])
    assert result.exit_code == 0 and "1 cases disposed of" in result.output, result.output

    with app.app_context():
        [gone] = db.session.scalars(select(Review).where(Review.decision_id == old.id)).all()
        assert gone.reasons == TOMBSTONE and gone.reasons_text == DISPOSED_TEXT
        assert gone.verdict == "agree_with_conditions"  # the clear, non-identifying columns stay
        [kept] = db.session.scalars(select(Review).where(Review.decision_id == new.id)).all()
        assert kept.reasons == f"Only the dates: {KEPT_SENTINEL}"
        assert db.session.scalars(select(Complaint)).one().case_ref == OLD
        with app.test_request_context():
            printed = render_template("operations/subject_access_print.html",
                                      export=build_export(OLD))
        assert verify_chain().ok
        db.session.remove()
    assert DISPOSED_TEXT in printed
    assert _stored_anywhere(app, database_url, [REVIEW_SENTINEL, COMPLAINT_SENTINEL]) == []

    after = dpo_client.get(export_url).get_data(as_text=True)
    export = json.loads(after)
    assert export["decisions"][0]["reviews"][0]["reasons"] == TOMBSTONE
    assert export["complaints"][0]["summary"] == TOMBSTONE
    assert not any(s in after or s in printed for s in (REVIEW_SENTINEL, COMPLAINT_SENTINEL))
    page = text_of(dpo_client.get(f"/review/decisions/{old.id}"))
    assert DISPOSED_TEXT in page and REVIEW_SENTINEL not in page
    listing = text_of(dpo_client.get("/dpo/operations/complaints"))
    assert DISPOSED_TEXT in listing and COMPLAINT_SENTINEL not in listing
    author = app.test_client()
    login_as(author, practitioner)
    record = author.get(f"/decisions/{old.id}/record")
    assert record.status_code == 200
    assert DISPOSED_TEXT in text_of(record) and REVIEW_SENTINEL not in text_of(record)
    assert "No reasons recorded" not in text_of(record)  # disposed of, not missing
    with app.app_context():
        assert verify_chain().ok
