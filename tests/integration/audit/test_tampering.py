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
from sqlalchemy import text
from sqlalchemy.engine import Connection

from decision_aid import audit
from decision_aid.audit import verify
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


def verify_committed(tamper: Callable[[Connection], Any], processes: int = 1) -> VerificationResult:
    """Tamper and commit (triggers put back), then verify as `flask audit verify` does: the
    column query and the other hashing processes then run on their own connections, so they see
    only committed rows."""
    with db.engine.connect() as conn, conn.begin():
        t.bypass_triggers(conn)
        tamper(conn)
        t.restore_triggers(conn)
    return audit.verify_chain(use_latest_checkpoint=False, processes=processes)


@pytest.fixture(autouse=True, params=["c_loop", "python_loop"])
def hash_loop(request: pytest.FixtureRequest, database_url: str, monkeypatch) -> str:
    """Every case with the hash pass in C (SQLite's default, native.py) and in Python."""
    if request.param == "c_loop" and not database_url.startswith("sqlite"):
        pytest.skip("the C hash pass is for SQLite only")
    monkeypatch.setenv("DECISION_AID_AUDIT_NATIVE", "1" if request.param == "c_loop" else "0")
    return str(request.param)


@pytest.fixture
def signed_log(app_ctx, append_many, tmp_path) -> tuple[int, Path]:
    """LOG_SIZE events, a checkpoint over them, then the checkpoint's own event (LOG_SIZE + 1)."""
    append_many(LOG_SIZE)
    checkpoint = audit.write_checkpoint(tmp_path / "signed")
    assert audit.verify_chain(checkpoint=checkpoint).ok
    return LOG_SIZE, checkpoint


def cases(size: int) -> st.SearchStrategy[tuple[str, Callable[[Connection], Any], int]]:
    """(name, tampering, first bad seq the verifier must name) for a log of size + 1 entries."""
    total, columns = size + 1, t.changeable(COLUMNS, db.engine.dialect.name)
    seq = st.integers(1, total)
    flips = st.builds(
        lambda s, col, pos, mask: (
            f"flip {col} of {s}", lambda c: t.flip_byte(c, s, col, pos, mask), s),
        seq, st.sampled_from(columns), st.integers(0, 10_000), st.integers(1, 255))
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
    if column not in t.changeable(COLUMNS, db.engine.dialect.name):
        pytest.skip("computed from the payload on SQLite: see test_computed_columns_cannot_change")
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


@pytest.mark.parametrize("processes", [1, 2, 3])
def test_split_hashing_reaches_the_same_head(signed_log, processes, monkeypatch) -> None:
    """Ranges hashed in child processes chain up to the same head and count as one pass."""
    size, checkpoint = signed_log
    monkeypatch.setattr(verify, "SPLIT_MIN_ENTRIES", 1)
    result = audit.verify_chain(checkpoint=checkpoint, processes=processes)
    assert (result.ok, result.checked, result.head_seq) == (True, size + 1, size + 1)
    assert result.head_hash == t._value(db.session.connection(), "entry_hash", size + 1)


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


@pytest.mark.parametrize("processes", [1, 3])
@pytest.mark.parametrize("case", sorted(COMMITTED_CASES))
def test_committed_tampering_is_located_by_the_two_connection_verifier(
    app_ctx, append_many, case, processes, monkeypatch
):
    """verify_chain runs its row checks on a second connection, and with processes > 1 hashes
    ranges of the log in child processes (here 3 ranges of 20 entries): same findings, same seq."""
    monkeypatch.setattr(verify, "SPLIT_MIN_ENTRIES", 1)
    column = case.removeprefix("flip ")
    if column in t.COMPUTED_ON_SQLITE and db.engine.dialect.name == "sqlite":
        pytest.skip("computed from the payload on SQLite: see test_computed_columns_cannot_change")
    tamper, expected = COMMITTED_CASES[case]
    append_many(60)
    result = verify_committed(tamper, processes)
    assert (result.ok, result.first_bad_seq) == (False, expected), result


ODD_REFS = ['q"uote', "back\\slash", "tab\there", "bell\x07", "\x7f\u2028é😀", "</script>"]


@pytest.mark.parametrize("ref", ODD_REFS)
def test_references_that_need_json_escaping_verify_and_are_still_checked(app_ctx, ref):
    """The database's JSON must agree with ours: PostgreSQL quotes the stored column to compare
    it with the bytes (or is overruled by the exact check); SQLite unquotes the bytes to compute
    the column, which must give back the reference as written."""
    from decision_aid.database import write_transaction

    with write_transaction():
        for _ in range(3):
            audit.record_event(audit.events.RECORD_VIEWED, actor=None, case_ref=ref)
    assert audit.verify_chain(use_latest_checkpoint=False).ok
    stored = db.session.execute(text("SELECT case_ref FROM audit_event WHERE seq = 2")).scalar()
    assert stored == ref
    column = "payload" if db.engine.dialect.name == "sqlite" else "case_ref"
    result = verify_tampered(None, lambda c: t.flip_byte(c, 2, column, 1))
    assert (result.ok, result.first_bad_seq) == (False, 2), result


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
