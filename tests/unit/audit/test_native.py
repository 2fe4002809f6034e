"""The C hash pass (`hash_range` in decision_aid/_sqlitec.c, via audit/native.py) against the
Python loop.

The Python loop in `verify.hash_pass` is the reference: for any log, tampered or not, with any
stored values (NULLs, text for bytes, bytes for text, other hashes), the C loop must report the
same entries checked and head hash, or the same first finding.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine

from decision_aid.audit import native
from decision_aid.audit.chain import GENESIS_HASH, HASH_TAG
from decision_aid.audit.verify import _Broken, hash_pass

COLUMNS = ("prev_hash", "payload", "entry_hash")
EXAMPLES = 2_000 if os.environ.get("HYPOTHESIS_PROFILE") == "deep" else 60
ODD_VALUES = st.one_of(
    st.none(),
    st.integers(-2, 2),
    st.text(max_size=70),
    st.binary(max_size=70),
    st.sampled_from(["A" * 64, "0" * 64, "g" * 64, "0" * 63, "0" * 65]),
    st.binary(min_size=32, max_size=32).map(bytes.hex),
)


def _chain(payloads: list[bytes]) -> list[tuple[int, str, bytes, str]]:
    rows, prev = [], GENESIS_HASH
    for seq, payload in enumerate(payloads, start=1):
        entry = hashlib.sha256(HASH_TAG + bytes.fromhex(prev) + payload).hexdigest()
        rows.append((seq, prev, payload, entry))
        prev = entry
    return rows


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A bare audit_event table: the hash pass reads no other column."""
    path: Path = tmp_path_factory.mktemp("native") / "log.sqlite3"
    made = create_engine(f"sqlite:///{path}")
    with made.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE audit_event (seq INTEGER PRIMARY KEY, prev_hash, payload, entry_hash)")
    yield made
    made.dispose()


def _outcome(conn: Connection, use_c: bool, from_seq: int, start: str, head: int | None,
             monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("DECISION_AID_AUDIT_NATIVE", "1" if use_c else "0")
    try:
        return ("ok", *hash_pass(conn, from_seq, start, head))
    except _Broken as broken:
        return ("broken", broken.seq, broken.problem, broken.order)
    except ValueError as exc:  # a start hash that is not hex: both raise before reading
        return ("ValueError", type(exc).__name__)


def test_the_c_loop_is_used_on_sqlite_unless_switched_off(engine: Engine, monkeypatch) -> None:
    with engine.connect() as conn:
        monkeypatch.setenv("DECISION_AID_AUDIT_NATIVE", "1")
        assert native.scanner(conn) is not None
        monkeypatch.setenv("DECISION_AID_AUDIT_NATIVE", "0")
        assert native.scanner(conn) is None


@settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    payloads=st.lists(st.binary(max_size=300), max_size=8),
    edits=st.lists(st.tuples(st.integers(1, 8), st.sampled_from(COLUMNS), ODD_VALUES), max_size=2),
    from_seq=st.integers(1, 4),
    head=st.one_of(st.none(), st.integers(0, 9)),
    start=st.one_of(st.none(), ODD_VALUES.filter(lambda v: isinstance(v, str))),
)
def test_the_c_loop_finds_what_the_python_loop_finds(
    engine: Engine, monkeypatch, payloads, edits, from_seq, head, start
) -> None:
    rows = [list(row) for row in _chain(payloads)]
    for seq, column, value in edits:
        if seq <= len(rows):
            rows[seq - 1][1 + COLUMNS.index(column)] = value
    if start is None:
        start = GENESIS_HASH if from_seq == 1 else (
            _chain(payloads)[from_seq - 2][3] if from_seq - 2 < len(payloads) else GENESIS_HASH)
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM audit_event")
        for row in rows:
            conn.exec_driver_sql("INSERT INTO audit_event VALUES (?, ?, ?, ?)", tuple(row))
        by_python = _outcome(conn, False, from_seq, start, head, monkeypatch)
        by_c = _outcome(conn, True, from_seq, start, head, monkeypatch)
    assert by_c == by_python


def test_uncommitted_changes_on_the_connection_are_seen(engine: Engine, monkeypatch) -> None:
    """The C loop runs on the caller's connection and transaction, as the Python loop does."""
    with engine.connect() as conn, conn.begin():
        conn.exec_driver_sql("DELETE FROM audit_event")
        for row in _chain([b"a", b"b", b"c"]):
            conn.exec_driver_sql("INSERT INTO audit_event VALUES (?, ?, ?, ?)", row)
        assert _outcome(conn, True, 1, GENESIS_HASH, None, monkeypatch)[:2] == ("ok", 3)
        conn.exec_driver_sql("UPDATE audit_event SET payload = x'00' WHERE seq = 2")
        assert _outcome(conn, True, 1, GENESIS_HASH, None, monkeypatch) == (
            "broken", 2, "entry_hash does not match the stored bytes", 2)
        conn.rollback()
