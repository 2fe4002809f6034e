"""Who has seen this record, verification codes, the latest event of a decision, key location."""

from __future__ import annotations

from pathlib import Path

from decision_aid import audit
from decision_aid.audit import events
from decision_aid.database import write_transaction

REF = "DA-2026-000321"


def _record(event_type: str, actor, ref: str = REF) -> audit.AuditEvent:
    with write_transaction():
        return audit.record_event(event_type, actor=actor, case_ref="CASE-77", decision_ref=ref)


def test_access_events_list_views_prints_downloads_and_exports(app_ctx, make_user) -> None:
    supervisor, dpo = make_user(role="supervisor"), make_user(role="dpo")
    kinds = [events.DECISION_SUBMITTED, events.RECORD_VIEWED, events.RECORD_PRINTED,
             events.REVIEW_RECORDED, events.RECORD_PDF_DOWNLOADED, events.RECORD_EXPORTED,
             events.RECORD_ACCESS_DENIED]
    for i, kind in enumerate(kinds):
        _record(kind, supervisor if i % 2 else dpo)
    _record(events.RECORD_VIEWED, dpo, ref="DA-2026-000999")
    seen = audit.access_events(REF)
    assert [e.event_type for e in seen] == list(events.ACCESS_EVENTS)
    assert {audit.event_details(e)["actor"]["role"] for e in seen} == {"supervisor", "dpo"}
    assert len(audit.access_events(REF, include_denied=True)) == 5


def test_verification_code_names_seq_and_hash_prefix(app_ctx) -> None:
    _record(events.DECISION_SUBMITTED, None)
    latest = _record(events.RECORD_VIEWED, None)
    assert audit.latest_event_for_decision(REF).seq == latest.seq
    assert audit.verification_code(latest) == f"AUD-{latest.seq:06d}-{latest.entry_hash[:8]}"
    assert audit.latest_event_for_decision("DA-1999-000001") is None


def test_verify_record_checks_only_that_decision(app_ctx, append_many) -> None:
    append_many(10)
    _record(events.DECISION_SUBMITTED, None)
    result = audit.verify_record(REF)
    assert result.ok and result.checked == 1
    assert not audit.verify_record("DA-1999-000001").ok


def test_dev_key_is_made_in_the_instance_folder(app_ctx, database_url) -> None:
    """With no key configured (test deployment) one is made in the instance folder, 0600."""
    from decision_aid.audit.keys import load_signing_key

    app_ctx.config["AUDIT_SIGNING_KEY_FILE"] = None
    instance = Path(app_ctx.instance_path)
    key = load_signing_key()
    path = instance / "keys" / "audit-signing.key"
    assert path.exists() and (path.stat().st_mode & 0o077) == 0
    assert key.public_key() is not None
    if database_url.startswith("sqlite"):
        assert Path(database_url.removeprefix("sqlite:///")).parent not in path.parents
