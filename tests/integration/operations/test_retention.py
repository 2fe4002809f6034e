"""T35/T38: the retention job shreds exactly the expired cases, keeps the chain, and is idempotent."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from decision_aid import clock
from decision_aid.audit import verify_chain
from decision_aid.clock import FakeClock
from decision_aid.extensions import db
from decision_aid.models import AuditEvent
from decision_aid.models.decision import Decision, Draft
from decision_aid.models.operations import CaseKey
from tests.helpers import login_as
from tests.integration.operations.helpers import sentinel_sharing, sqlite_files_contain

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
