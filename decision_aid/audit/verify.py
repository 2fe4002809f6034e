"""Verifying the chain: every link, every hash, every column against the stored bytes.

The hot loop reads plain DBAPI tuples (a server-side cursor on PostgreSQL) and never parses JSON:
it re-hashes the stored bytes and compares the payload's leading bytes with text built from the
columns (`chain.header_for`), which is exact because JSON string literals are self-delimiting.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from decision_aid.audit.canonical import encode_string
from decision_aid.audit.chain import GENESIS_HASH, HASH_TAG, HEADER_FORMAT
from decision_aid.models.audit import AuditEvent

BATCH = 10_000

# occurred_at as the exact text stored in the payload. SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff";
# anything else maps to a string starting with "!" that can never equal a payload timestamp.
_OCCURRED_SQL = {
    "sqlite": (
        "CASE WHEN typeof(occurred_at) = 'text' AND substr(occurred_at, 11, 1) = ' ' "
        "THEN substr(occurred_at, 1, 10) || 'T' || substr(occurred_at, 12) || 'Z' "
        "ELSE '!' || occurred_at END"
    ),
    "postgresql": (
        "to_char(occurred_at AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
    ),
}
_COLUMNS = (
    "seq, prev_hash, entry_hash, payload, actor_id, case_ref, decision_ref, event_type, {occ}"
)


@dataclass(frozen=True)
class VerificationResult:
    """Outcome of a verification. `first_bad_seq` names the first entry found wrong or missing."""

    ok: bool
    checked: int
    first_bad_seq: int | None
    problem: str
    head_seq: int
    head_hash: str
    checkpoint_size: int | None = None

    def summary(self) -> str:
        """One line for the CLI and logs."""
        if self.ok:
            covered = (
                f"; matches checkpoint at {self.checkpoint_size}" if self.checkpoint_size else ""
            )
            head = f"head {self.head_seq} {self.head_hash[:16]}"
            return f"OK: {self.checked} entries verified, {head}{covered}"
        where = f" at seq {self.first_bad_seq}" if self.first_bad_seq is not None else ""
        return f"FAILED{where}: {self.problem}"


class _Broken(Exception):
    """Internal: stops the scan at the first bad entry."""

    def __init__(self, seq: int, problem: str) -> None:
        super().__init__(problem)
        self.seq = seq
        self.problem = problem


def select_sql(dialect: str, *, where: str = "seq >= {p}") -> str:
    """The verification query for this dialect (placeholders: ? on SQLite, %s on psycopg)."""
    placeholder = "?" if dialect == "sqlite" else "%s"
    columns = _COLUMNS.format(occ=_OCCURRED_SQL[dialect])
    condition = where.format(p=placeholder)  # fixed text from this module, never user input
    return f"SELECT {columns} FROM audit_event WHERE {condition} ORDER BY seq"  # noqa: S608


def stream_rows(conn: Connection, sql: str, params: tuple[Any, ...]) -> Iterator[list[Any]]:
    """Batches of raw tuples: a named (server-side) cursor on PostgreSQL, fetchmany on SQLite."""
    dbapi = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        cursor = dbapi.cursor(name="audit_verify")
        cursor.itersize = BATCH
    else:
        cursor = dbapi.cursor()
    try:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(BATCH):
            yield rows
    finally:
        cursor.close()


def _check_rows(
    rows: list[Any], expected: int, prev_raw: bytes, prev_hex: str
) -> tuple[int, bytes, str]:
    """Check one batch; returns the next expected seq and the running hash. Raises _Broken."""
    sha256, tag, fmt, enc = hashlib.sha256, HASH_TAG, HEADER_FORMAT, encode_string
    try:
        for seq, prev, entry, payload, actor, case, dec, etype, occ in rows:
            if seq != expected:
                raise _Broken(expected, f"entry {expected} is missing (found {seq!r} next)")
            if prev != prev_hex:
                raise _Broken(seq, "prev_hash does not match the previous entry's hash")
            digest = sha256(tag + prev_raw + payload).digest()
            prev_hex = digest.hex()
            if prev_hex != entry:
                raise _Broken(seq, "entry_hash does not match the stored bytes")
            header = fmt % (
                "null" if actor is None else enc(actor),
                "null" if case is None else enc(case),
                "null" if dec is None else enc(dec),
                enc(etype),
                enc(occ),
                seq,
            )
            if not payload.startswith(header.encode()):
                raise _Broken(seq, "a column differs from the hashed bytes")
            prev_raw = digest
            expected += 1
    except (TypeError, ValueError, AttributeError, UnicodeError) as exc:  # a mistyped column
        raise _Broken(expected, f"malformed entry ({type(exc).__name__})") from exc
    return expected, prev_raw, prev_hex


def stored_column(conn: Connection, column: str, seq: int) -> str | None:
    """One stored hash column of one entry (None when there is no such entry)."""
    table = AuditEvent.__table__
    value = conn.execute(select(table.c[column]).where(table.c.seq == seq)).scalar()
    return None if value is None else str(value)


def _start_hash(conn: Connection, from_seq: int) -> str:
    """The stored hash before `from_seq` (genesis for 1): a partial check trusts that entry."""
    if from_seq <= 1:
        return GENESIS_HASH
    stored = stored_column(conn, "entry_hash", from_seq - 1)
    if stored is None:
        raise _Broken(from_seq - 1, f"entry {from_seq - 1} is missing")
    return stored


def scan_chain(conn: Connection, from_seq: int = 1) -> tuple[int, int, str]:
    """Verify entries from `from_seq` to the head; returns (checked, head_seq, head_hash)."""
    prev_hex = _start_hash(conn, from_seq)
    prev_raw = bytes.fromhex(prev_hex)
    expected = max(int(from_seq), 1)
    sql = select_sql(conn.dialect.name)
    for rows in stream_rows(conn, sql, (expected,)):
        expected, prev_raw, prev_hex = _check_rows(rows, expected, prev_raw, prev_hex)
    return expected - max(int(from_seq), 1), expected - 1, prev_hex


def verify_connection(
    conn: Connection, *, from_seq: int = 1, checkpoint: Path | None = None
) -> VerificationResult:
    """Verify on an open connection inside one transaction (tests tamper on the same one)."""
    from decision_aid.audit.checkpoint import check_against_checkpoint

    try:
        checked, head_seq, head_hash = scan_chain(conn, from_seq)
    except _Broken as broken:
        checked = max(0, broken.seq - max(int(from_seq), 1))
        return VerificationResult(False, checked, broken.seq, broken.problem, 0, "")
    result = VerificationResult(True, checked, None, "", head_seq, head_hash)
    if checkpoint is not None:
        result = check_against_checkpoint(conn, result, checkpoint)
    return result
