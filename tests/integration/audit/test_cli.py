"""`flask audit verify | checkpoint | keygen | public-key`: exit codes, messages, events."""

from __future__ import annotations

import stat

from sqlalchemy import select

from decision_aid import audit
from decision_aid.audit import events
from decision_aid.audit.checkpoint import origin, parse
from decision_aid.extensions import db
from decision_aid.models import AuditEvent
from tests.integration.audit import tampering as t


def _commit_tamper(tamper) -> None:
    """Tamper for real (the test database is thrown away), then put the triggers back."""
    db.session.remove()
    with db.engine.begin() as conn:
        t.bypass_triggers(conn)
        tamper(conn)
        t.restore_triggers(conn)


def _last_event() -> AuditEvent:
    return db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()


def test_verify_ok_exits_zero_and_records_the_verification(app_ctx, runner, append_many) -> None:
    append_many(20)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: 20 entries verified")
    assert _last_event().event_type == events.CHAIN_VERIFIED
    assert audit.event_details(_last_event())["data"]["head_seq"] == 20


def test_verify_failure_exits_one_naming_the_first_bad_seq(app_ctx, runner, append_many) -> None:
    append_many(20)
    _commit_tamper(lambda c: t.flip_byte(c, 13, "payload", 40))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "seq 13" in lines[0]
    assert _last_event().seq == 20  # a failed verification is not appended to a broken chain


def test_verify_uses_the_latest_checkpoint_to_catch_a_cut_tail(app_ctx, runner, append_many):
    append_many(20)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    _commit_tamper(lambda c: t.truncate_tail(c, 15))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "seq 16" in result.output


def test_verify_with_a_missing_checkpoint_file_is_a_usage_error(app_ctx, runner, tmp_path):
    result = runner.invoke(args=["audit", "verify", "--checkpoint", str(tmp_path / "nope.txt")])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_verify_record(app_ctx, runner, append_many) -> None:
    append_many(30)
    ok = runner.invoke(args=["audit", "verify", "--record", "DA-2026-000005"])
    assert ok.exit_code == 0 and "entries of DA-2026-000005 verified" in ok.output
    unknown = runner.invoke(args=["audit", "verify", "--record", "DA-1999-000001"])
    assert unknown.exit_code == 2
    target = min(e.seq for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.decision_ref == "DA-2026-000005")))
    # SQLite computes case_ref from the bytes (audit/schema.py): there, change a stored hash
    column = "entry_hash" if db.engine.dialect.name == "sqlite" else "case_ref"
    _commit_tamper(lambda c: t.flip_byte(c, target, column, 0))
    broken = runner.invoke(args=["audit", "verify", "--record", "DA-2026-000005"])
    assert broken.exit_code == 1 and f"seq {target}" in broken.output


def test_checkpoint_command_writes_a_signed_c2sp_note(app_ctx, runner, append_many, tmp_path):
    append_many(7)
    result = runner.invoke(args=["audit", "checkpoint", "--dir", str(tmp_path / "cp")])
    assert result.exit_code == 0
    path = tmp_path / "cp" / result.output.strip().rsplit("/", 1)[-1]
    text = path.read_text()
    body, signature = text.split("\n\n")
    assert body.split("\n") == [origin(), "7", parse(text)[0].body().split("\n")[2]]
    assert signature.startswith("\u2014 " + origin() + " ")
    assert parse(text)[0].root_hash == db.session.get(AuditEvent, 7).entry_hash
    assert audit.load_checkpoint(path).size == 7
    assert _last_event().event_type == events.CHECKPOINT_WRITTEN


def test_keygen_writes_a_private_file_and_refuses_to_overwrite(app_ctx, runner, tmp_path):
    out = tmp_path / "keys" / "signing.key"
    first = runner.invoke(args=["audit", "keygen", "--out", str(out)])
    assert first.exit_code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert (tmp_path / "keys" / "signing.key.pub").read_text().strip() == first.output.strip()
    again = runner.invoke(args=["audit", "keygen", "--out", str(out)])
    assert again.exit_code == 2 and "already exists" in again.output


def test_public_key_matches_the_configured_key(app_ctx, runner, signing_key_file) -> None:
    from decision_aid.audit.keys import parse_private_key, verifier_key

    expected = verifier_key(origin(), parse_private_key(signing_key_file.read_bytes()).public_key())
    result = runner.invoke(args=["audit", "public-key"])
    assert result.exit_code == 0 and result.output.strip() == expected
