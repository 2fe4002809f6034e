"""record_event: gapless sequence, chained hashes, canonical bytes, same-transaction semantics."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest
from sqlalchemy import func, select

from decision_aid import audit
from decision_aid.audit import events
from decision_aid.audit.chain import GENESIS_HASH, entry_hash
from decision_aid.database import write_transaction
from decision_aid.extensions import db
from decision_aid.models import AuditEvent


def test_first_events_chain_from_genesis(app_ctx, append_many) -> None:
    append_many(3)
    rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [r.seq for r in rows] == [1, 2, 3]
    assert rows[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.entry_hash
    for row in rows:
        assert row.entry_hash == entry_hash(row.prev_hash, row.payload)


def test_payload_holds_every_column_and_the_actor(app_ctx, make_user, fake_clock) -> None:
    user = make_user(role="supervisor")
    with write_transaction():
        event = audit.record_event(
            events.RECORD_VIEWED, actor=user, case_ref="CASE-1", decision_ref="DA-2026-000001",
            data={"reason": "review"},
        )
    document = json.loads(event.payload)
    assert document["seq"] == event.seq
    assert document["actor_id"] == str(user.id) == event.actor_id
    assert document["with"]["actor"] == {"name": user.display_name, "role": "supervisor"}
    assert document["event_type"] == "record.viewed"
    assert document["case_ref"] == "CASE-1" and document["decision_ref"] == "DA-2026-000001"
    assert document["occurred_at"] == fake_clock.current.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert event.occurred_at == fake_clock.current
    assert document["with"]["data"] == {"reason": "review"}


def test_system_actor_is_null(app_ctx) -> None:
    with write_transaction():
        event = audit.record_event(events.CHECKPOINT_WRITTEN, actor=None)
    assert event.actor_id is None
    assert json.loads(event.payload)["with"]["actor"] is None


def test_event_rolls_back_with_the_change_it_records(app_ctx, append_many) -> None:
    append_many(2)
    with pytest.raises(RuntimeError), write_transaction():
        audit.record_event(events.DECISION_SUBMITTED, actor=None, decision_ref="DA-2026-000009")
        raise RuntimeError("the decision failed to save")
    append_many(1)
    seqs = db.session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)).all()
    assert seqs == [1, 2, 3]  # the rolled-back seq 3 was reused: no gap
    assert audit.verify_chain().ok


@pytest.mark.parametrize("bad", [
    {"x": 1.5}, {"x": float("nan")}, {"x": 2**53}, {"x": -(2**53)}, {1: "a"}, {"x": b"bytes"},
    {"x": "y" * 300},
])
def test_bad_data_is_refused_before_anything_is_written(app_ctx, bad) -> None:
    with pytest.raises(ValueError), write_transaction():
        audit.record_event(events.SETTINGS_CHANGED, actor=None, data=bad)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0


@pytest.mark.parametrize("kwargs", [
    {"event_type": "Not A Type"}, {"event_type": "noarea"},
    {"event_type": "record.viewed", "case_ref": ""},
    {"event_type": "record.viewed", "decision_ref": "x" * 65},
])
def test_bad_fields_are_refused(app_ctx, kwargs) -> None:
    with pytest.raises(ValueError), write_transaction():
        audit.record_event(actor=None, **kwargs)


def test_record_event_starts_a_transaction_when_none_is_open(app_ctx) -> None:
    db.session.commit()
    event = audit.record_event(events.CHAIN_VERIFIED, actor=None, data={"n": 1})
    db.session.commit()
    assert db.session.get(AuditEvent, event.seq) is not None


def test_time_comes_from_the_application_clock(app_ctx, fake_clock) -> None:
    fake_clock.current = dt.datetime(2030, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC)
    with write_transaction():
        event = audit.record_event(events.SIGN_IN_FAILED, actor=None)
    db.session.expire_all()
    assert db.session.get(AuditEvent, event.seq).occurred_at == fake_clock.current


def test_time_never_goes_back_along_the_chain(app_ctx, fake_clock) -> None:
    """A clock that steps back (NTP, a restored VM) stamps the previous entry's time instead,
    so a date range is a seq range for the audit-log search."""
    fake_clock.current = dt.datetime(2030, 1, 2, 3, 0, 0, tzinfo=dt.UTC)
    with write_transaction():
        first = audit.record_event(events.SIGN_IN_FAILED, actor=None)
    fake_clock.current -= dt.timedelta(hours=1)
    with write_transaction():
        second = audit.record_event(events.SIGN_IN_FAILED, actor=None)
    fake_clock.current += dt.timedelta(hours=2)
    with write_transaction():
        third = audit.record_event(events.SIGN_IN_FAILED, actor=None)
    db.session.expire_all()
    times = [db.session.get(AuditEvent, e.seq).occurred_at for e in (first, second, third)]
    assert times == [dt.datetime(2030, 1, 2, 3, tzinfo=dt.UTC)] * 2 + [fake_clock.current]
    assert json.loads(db.session.get(AuditEvent, second.seq).payload)["occurred_at"].startswith(
        "2030-01-02T03:00:00")
    assert audit.verify_chain().ok
