"""Every kind of tampering is detected and located (quality target T15).

One log per test; each case tampers on a privileged connection inside a transaction (triggers
dropped or disabled there), verifies on that same connection, and rolls back.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Connection

from decision_aid import audit
from decision_aid.audit.verify import VerificationResult, verify_connection
from decision_aid.extensions import db
from tests.integration.audit import tampering as t

DEEP = os.environ.get("HYPOTHESIS_PROFILE") == "deep"
LOG_SIZE = 200
EXAMPLES = 300 if DEEP else 50
COLUMNS = ("payload", "seq", "occurred_at", *t.TEXT_COLUMNS)


def verify_tampered(
    checkpoint: Path | None, tamper: Callable[[Connection], Any]
) -> VerificationResult:
    """Tamper and verify in one transaction, then roll everything back."""
    with db.engine.connect() as conn:
        transaction = conn.begin()
        try:
            t.bypass_triggers(conn)
            tamper(conn)
            return verify_connection(conn, checkpoint=checkpoint)
        finally:
            transaction.rollback()


def verify_committed(tamper: Callable[[Connection], Any]) -> VerificationResult:
    """Tamper and commit (triggers put back), then verify as `flask audit verify` does: the
    column query then runs on its own connection, so it sees only committed rows."""
    with db.engine.connect() as conn, conn.begin():
        t.bypass_triggers(conn)
        tamper(conn)
        t.restore_triggers(conn)
    return audit.verify_chain(use_latest_checkpoint=False)


@pytest.fixture
def signed_log(app_ctx, append_many, tmp_path) -> tuple[int, Path]:
    """LOG_SIZE events, a checkpoint over them, then the checkpoint's own event (LOG_SIZE + 1)."""
    append_many(LOG_SIZE)
    checkpoint = audit.write_checkpoint(tmp_path / "signed")
    assert audit.verify_chain(checkpoint=checkpoint).ok
    return LOG_SIZE, checkpoint


def cases(size: int) -> st.SearchStrategy[tuple[str, Callable[[Connection], Any], int]]:
    """(name, tampering, first bad seq the verifier must name) for a log of size + 1 entries."""
    total = size + 1
    seq = st.integers(1, total)
    flips = st.builds(
        lambda s, col, pos, mask: (
            f"flip {col} of {s}", lambda c: t.flip_byte(c, s, col, pos, mask), s),
        seq, st.sampled_from(COLUMNS), st.integers(0, 10_000), st.integers(1, 255))
    deletes = st.integers(1, total - 1).map(
        lambda s: (f"delete {s}", lambda c: t.delete_row(c, s), s))
    swaps = st.lists(seq, min_size=2, max_size=2, unique=True).map(sorted).map(
        lambda p: (f"swap {p}", lambda c: t.swap_payloads(c, p[0], p[1]), p[0]))
    replaced = st.integers(1, total - 1).map(
        lambda s: (f"forge {s}", lambda c: t.forge_replace(c, s), s + 1))
    inserted = st.integers(1, size).map(
        lambda s: (f"forge+rechain at {s}", lambda c: t.forge_insert_rechained(c, s), size))
    truncated = st.integers(0, size - 1).map(
        lambda k: (f"truncate to {k}", lambda c: t.truncate_tail(c, k), k + 1))
    return st.one_of(flips, deletes, swaps, replaced, inserted, truncated)


def test_every_tampering_is_detected_and_located(signed_log) -> None:
    size, checkpoint = signed_log

    @settings(max_examples=EXAMPLES, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(case=cases(size))
    def check(case: tuple[str, Callable[[Connection], Any], int]) -> None:
        name, tamper, expected = case
        result = verify_tampered(checkpoint, tamper)
        assert not result.ok, name
        assert result.first_bad_seq == expected, (name, result)

    check()
    assert audit.verify_chain(checkpoint=checkpoint).ok  # every case was rolled back


@pytest.mark.parametrize("column", COLUMNS)
def test_a_changed_byte_in_any_column_names_its_row(signed_log, column) -> None:
    _, checkpoint = signed_log
    result = verify_tampered(checkpoint, lambda c: t.flip_byte(c, 77, column, 3))
    assert (result.ok, result.first_bad_seq) == (False, 77)
    assert "77" in result.summary()


def test_truncation_is_caught_only_by_the_checkpoint(signed_log) -> None:
    size, checkpoint = signed_log
    with db.engine.connect() as conn, conn.begin() as transaction:
        t.bypass_triggers(conn)
        t.truncate_tail(conn, size - 5)
        assert verify_connection(conn).ok  # a shorter chain is still a valid chain...
        result = verify_connection(conn, checkpoint=checkpoint)
        transaction.rollback()
    assert (result.ok, result.first_bad_seq) == (False, size - 4)  # ...but not the signed one
    assert "older copy" in result.problem


def test_rechained_forgery_is_caught_by_the_checkpoint(signed_log) -> None:
    size, checkpoint = signed_log
    result = verify_tampered(checkpoint, lambda c: t.forge_insert_rechained(c, 10))
    assert (result.ok, result.first_bad_seq) == (False, size)
    assert "rewritten" in result.problem


def test_a_checkpoint_signed_by_another_key_is_refused(signed_log, tmp_path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from decision_aid.audit.checkpoint import parse, sign

    _, checkpoint = signed_log
    forged_text = sign(parse(checkpoint.read_text())[0], Ed25519PrivateKey.generate())
    forged = tmp_path / "forged.txt"
    forged.write_text(forged_text)
    result = audit.verify_chain(checkpoint=forged)
    assert not result.ok and "not signed by this log's key" in result.problem


def test_restoring_an_older_backup_is_detected(app_ctx, append_many, database_url, tmp_path):
    if not database_url.startswith("sqlite"):
        pytest.skip("copies the SQLite file (the truncation cases cover PostgreSQL)")
    db_file = Path(database_url.removeprefix("sqlite:///"))
    append_many(40)
    db.session.remove()
    db.engine.dispose()
    backup = tmp_path / "backup.sqlite3"
    with db.engine.connect() as conn:  # the online backup API: a consistent copy
        conn.connection.driver_connection.backup(_sqlite_connect(backup))
    append_many(25)
    checkpoint = audit.write_checkpoint()
    db.session.remove()
    db.engine.dispose()
    for suffix in ("-wal", "-shm"):
        Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(backup, db_file)
    result = audit.verify_chain()
    assert (result.ok, result.first_bad_seq) == (False, 41)
    assert audit.latest_checkpoint() == checkpoint


def _sqlite_connect(path: Path) -> Any:
    import sqlite3

    return sqlite3.connect(path)


COMMITTED_CASES = {
    "flip case_ref": (lambda c: t.flip_byte(c, 30, "case_ref", 2), 30),
    "flip occurred_at": (lambda c: t.flip_byte(c, 30, "occurred_at", 5), 30),
    "flip payload": (lambda c: t.flip_byte(c, 30, "payload", 40), 30),
    "flip prev_hash": (lambda c: t.flip_byte(c, 30, "prev_hash", 7), 30),
    "move seq": (lambda c: t.flip_byte(c, 30, "seq", 0), 30),
    "delete": (lambda c: t.delete_row(c, 30), 30),
    "delete two": (lambda c: (t.delete_row(c, 30), t.delete_row(c, 31)), 30),
    "swap": (lambda c: t.swap_payloads(c, 20, 40), 20),
    "forge": (lambda c: t.forge_replace(c, 30), 31),
}


@pytest.mark.parametrize("case", sorted(COMMITTED_CASES))
def test_committed_tampering_is_located_by_the_two_connection_verifier(app_ctx, append_many, case):
    """verify_chain runs its row checks on a second connection: same findings, same seq."""
    tamper, expected = COMMITTED_CASES[case]
    append_many(60)
    result = verify_committed(tamper)
    assert (result.ok, result.first_bad_seq) == (False, expected), result


ODD_REFS = ['q"uote', "back\\slash", "tab\there", "bell\x07", "\x7f\u2028é😀", "</script>"]


@pytest.mark.parametrize("ref", ODD_REFS)
def test_references_that_need_json_escaping_verify_and_are_still_checked(app_ctx, ref):
    """The database's JSON quoting must agree with ours (or be overruled by the exact check)."""
    from decision_aid.database import write_transaction

    with write_transaction():
        for _ in range(3):
            audit.record_event(audit.events.RECORD_VIEWED, actor=None, case_ref=ref)
    assert audit.verify_chain(use_latest_checkpoint=False).ok
    result = verify_tampered(None, lambda c: t.flip_byte(c, 2, "case_ref", 1))
    assert (result.ok, result.first_bad_seq) == (False, 2), result


@pytest.mark.parametrize("column", ["actor_id", "case_ref", "decision_ref", "event_type"])
def test_a_blob_in_a_text_column_is_named_not_a_crash(app_ctx, append_many, database_url, column):
    """SQLite enforces no column types; the fast column query cannot quote a BLOB."""
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL refuses bytes in a varchar column")
    append_many(40)

    def to_blob(conn: Connection) -> None:
        conn.exec_driver_sql(
            f"UPDATE audit_event SET {column} = CAST(coalesce({column}, 'x') AS BLOB) "
            "WHERE seq = 30")

    result = verify_tampered(None, to_blob)
    assert (result.ok, result.first_bad_seq) == (False, 30), result
    assert "malformed" in result.problem
    result = verify_committed(to_blob)
    assert (result.ok, result.first_bad_seq) == (False, 30), result


SQLITE_TIMES = {
    "T for the space": lambda v: v[:10] + "T" + v[11:],
    "one character more": lambda v: v + "0",
    "one character less": lambda v: v[:-1],
    "a quote inside": lambda v: v[:12] + '"' + v[13:],
}


@pytest.mark.parametrize("change", sorted(SQLITE_TIMES))
def test_a_stored_time_in_another_spelling_is_a_changed_column(app_ctx, append_many, database_url,
                                                               change):
    """SQLite keeps the time as text, which the fast column query copies into the expected bytes
    unquoted; its guards must leave no other spelling of the same instant undetected."""
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL stores a timestamp, not text")
    append_many(40)

    def respell(conn: Connection) -> None:
        stored = conn.exec_driver_sql("SELECT occurred_at FROM audit_event WHERE seq = 30").scalar()
        conn.exec_driver_sql("UPDATE audit_event SET occurred_at = ? WHERE seq = 30",
                             (SQLITE_TIMES[change](stored),))

    result = verify_tampered(None, respell)
    assert (result.ok, result.first_bad_seq) == (False, 30), result
    result = verify_committed(respell)
    assert (result.ok, result.first_bad_seq) == (False, 30), result


@pytest.mark.parametrize("seq", [1, 20, 21])
def test_a_changed_link_is_named_also_from_a_later_start(app_ctx, append_many, seq) -> None:
    """prev_hash is compared with the hash before it, or with the start hash for the first entry
    checked (genesis, or the trusted entry before `from_seq`)."""
    append_many(40)
    for from_seq in (1, 20):
        def flip(conn: Connection) -> None:
            t.flip_byte(conn, seq, "prev_hash", 5)

        with db.engine.connect() as conn:
            transaction = conn.begin()
            try:
                t.bypass_triggers(conn)
                flip(conn)
                result = verify_connection(conn, from_seq=from_seq)
            finally:
                transaction.rollback()
        if seq < from_seq:
            assert result.ok, (from_seq, result)
        else:
            assert (result.ok, result.first_bad_seq) == (False, seq), (from_seq, result)
            assert "prev_hash" in result.problem
