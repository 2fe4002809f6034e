"""Verifying the chain: every link, every hash, every column against the stored bytes.

Three checks, whose first failures are merged into the one a single row-by-row loop would name
(earliest seq first; within one entry: gap, link, hash, columns):

* the hash pass (Python, the hot loop) streams only `prev_hash`, `payload` and `entry_hash`,
  checks each link and re-hashes the stored bytes;
* the gap check is free when the log is whole: seq is unique, so the entries from..head are
  gapless exactly when the hash pass read head - from + 1 of them; only otherwise does a
  binary search over index counts name the first missing seq;
* the column check is one SQL query, run in C by the database, returning only suspect rows:
  those whose payload does not start with the JSON text built from the columns (json_quote on
  SQLite, to_json on PostgreSQL; exact because JSON string literals are self-delimiting, see
  `chain.header_for`). Each suspect is re-checked in Python with our own encoder, so a quoting
  difference in the database could only cost time, never raise a false alarm; equal bytes are
  equal bytes, so it can never hide a mismatch either.

`verify_chain` runs the column check on a second connection in a thread while Python hashes
(sqlite3 and psycopg release the GIL while the database works). `verify_connection` on a
caller's connection runs them in turn, so changes not yet committed on it (the tampering tests)
are seen by every check.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from decision_aid.audit.canonical import encode_string
from decision_aid.audit.chain import GENESIS_HASH, HASH_TAG, HEADER_FORMAT
from decision_aid.models.audit import AuditEvent

BATCH = 10_000

# occurred_at as the exact text stored in the payload. SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff";
# anything else maps to a string starting with "!" that can never equal a payload timestamp.
_OCCURRED_SQL = {
    "sqlite": (
        "CASE WHEN typeof({t}occurred_at) = 'text' AND substr({t}occurred_at, 11, 1) = ' ' "
        "THEN substr({t}occurred_at, 1, 10) || 'T' || substr({t}occurred_at, 12) || 'Z' "
        "ELSE '!' || {t}occurred_at END"
    ),
    "postgresql": (
        "to_char({t}occurred_at AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
    ),
}
_COLUMNS = (
    "seq, prev_hash, entry_hash, payload, actor_id, case_ref, decision_ref, event_type, {occ}"
)
# The payload's expected leading bytes, built from the columns in SQL (HEADER_FORMAT's layout).
_HEADER_SQL = {
    "sqlite": (
        "CAST(printf('{{\"actor_id\":%s,\"case_ref\":%s,\"decision_ref\":%s,\"event_type\":%s,"
        "\"occurred_at\":\"%.10sT%sZ\",\"seq\":%d,\"v\":1,\"with\":', json_quote(a.actor_id), "
        "json_quote(a.case_ref), json_quote(a.decision_ref), json_quote(a.event_type), "
        "a.occurred_at, substr(a.occurred_at, 12), a.seq) AS BLOB)"
    ),
    "postgresql": (
        "convert_to('{{\"actor_id\":' || coalesce(to_json(a.actor_id)::text, 'null') || "
        "',\"case_ref\":' || coalesce(to_json(a.case_ref)::text, 'null') || "
        "',\"decision_ref\":' || coalesce(to_json(a.decision_ref)::text, 'null') || "
        "',\"event_type\":' || coalesce(to_json(a.event_type)::text, 'null') || "
        "',\"occurred_at\":' || coalesce(to_json({occ})::text, 'null') || "
        "',\"seq\":' || a.seq::text || ',\"v\":1,\"with\":', 'UTF8')"
    ),
}
# On SQLite the time goes into the header as its stored text, the 11th character (a space)
# replaced by the T: json_quote is not needed because the guards admit only a 26-character text
# with a space there, and any other character that would need escaping makes the bytes differ
# from the payload's digits. (Building the time with substr, || and json_quote cost a quarter of
# the whole query.)
_PREFIX_MISMATCH_SQL = {
    "sqlite": (
        "(instr(a.payload, {header}) IS NOT 1 "
        "OR typeof(a.occurred_at) IS NOT 'text' OR length(a.occurred_at) IS NOT 26 "
        "OR substr(a.occurred_at, 11, 1) IS NOT ' ')"
    ),
    "postgresql": "position({header} in a.payload) IS DISTINCT FROM 1",
}
GAP, LINK, HASH, COLUMNS = 0, 1, 2, 3  # the order in which one entry's checks are reported


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

    def __init__(self, seq: int, problem: str, order: int = GAP) -> None:
        super().__init__(problem)
        self.seq = seq
        self.problem = problem
        self.order = order

    def key(self) -> tuple[int, int]:
        """Earlier entries first; within one entry, the order the single loop checked in."""
        return (self.seq, self.order)


def _placeholder(dialect: str) -> str:
    return "?" if dialect == "sqlite" else "%s"


def select_sql(dialect: str, *, where: str = "seq >= {p}") -> str:
    """All columns of matching entries, for the exact Python check (`--record`, suspects)."""
    columns = _COLUMNS.format(occ=_OCCURRED_SQL[dialect].format(t=""))
    condition = where.format(p=_placeholder(dialect))  # fixed text from this module only
    return f"SELECT {columns} FROM audit_event WHERE {condition} ORDER BY seq"  # noqa: S608


def hash_sql(dialect: str, *, bounded: bool = False) -> str:
    """The hash pass reads the two stored hashes and the stored bytes, nothing else."""
    p = _placeholder(dialect)
    upper = f" AND seq <= {p}" if bounded else ""
    return (
        f"SELECT prev_hash, payload, entry_hash FROM audit_event WHERE seq >= {p}{upper} "  # noqa: S608
        "ORDER BY seq"
    )


def columns_sql(dialect: str, *, bounded: bool = False) -> str:
    """Entries from seq >= p whose payload does not start with the bytes built from the columns.

    Runs entirely in the database (json_quote / to_json do the JSON string encoding); a healthy
    log returns no rows.
    """
    p = _placeholder(dialect)
    header = _HEADER_SQL[dialect].format(occ=_OCCURRED_SQL[dialect].format(t="a."))
    mismatch = _PREFIX_MISMATCH_SQL[dialect].format(header=header)
    upper = f" AND a.seq <= {p}" if bounded else ""
    where = f"a.seq >= {p}{upper} AND {mismatch}"  # fixed text from this module only
    return f"SELECT a.seq FROM audit_event a WHERE {where} ORDER BY a.seq"  # noqa: S608


def open_cursor(conn: Connection, sql: str, params: tuple[Any, ...]) -> Any:
    """An executed DBAPI cursor to iterate directly (no per-row generator or batch lists):
    a named (server-side) cursor fetching BATCH rows at a time on PostgreSQL. Close it after."""
    dbapi = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        cursor = dbapi.cursor(name=f"audit_verify_{threading.get_ident()}")
        cursor.itersize = BATCH
    else:
        cursor = dbapi.cursor()
    cursor.execute(sql, params)
    return cursor


def stream_rows(conn: Connection, sql: str, params: tuple[Any, ...]) -> Iterator[list[Any]]:
    """Batches of raw tuples (for callers that want lists)."""
    cursor = open_cursor(conn, sql, params)
    try:
        while rows := cursor.fetchmany(BATCH):
            yield rows
    finally:
        cursor.close()


def _header_bytes(actor: Any, case: Any, dec: Any, etype: Any, occ: Any, seq: int) -> bytes:
    """The exact leading bytes a payload with these column values has (raises on odd types)."""
    enc = encode_string
    return (
        HEADER_FORMAT
        % (
            "null" if actor is None else enc(actor),
            "null" if case is None else enc(case),
            "null" if dec is None else enc(dec),
            enc(etype),
            enc(occ),
            seq,
        )
    ).encode()


def _check_columns(row: Any) -> None:
    """Exact check that a full row's columns equal the values in its payload. Raises _Broken."""
    seq, _, _, payload, actor, case, dec, etype, occ = row
    try:
        if not payload.startswith(_header_bytes(actor, case, dec, etype, occ, seq)):
            raise _Broken(seq, "a column differs from the hashed bytes", COLUMNS)
    except (TypeError, ValueError, AttributeError, UnicodeError) as exc:  # a mistyped column
        raise _Broken(seq, f"malformed entry ({type(exc).__name__})", COLUMNS) from exc


def _check_rows(
    rows: list[Any], expected: int, prev_raw: bytes, prev_hex: str
) -> tuple[int, bytes, str]:
    """Check full rows one by one (seq, link, hash, columns); returns the running state."""
    sha256, tag = hashlib.sha256, HASH_TAG
    for row in rows:
        seq, prev, entry, payload = row[:4]
        if seq != expected:
            raise _Broken(expected, f"entry {expected} is missing (found {seq!r} next)")
        if prev != prev_hex:
            raise _Broken(seq, "prev_hash does not match the previous entry's hash", LINK)
        try:
            digest = sha256(tag + prev_raw + payload).digest()
        except TypeError as exc:
            raise _Broken(seq, f"malformed entry ({type(exc).__name__})", HASH) from exc
        prev_hex = digest.hex()
        if prev_hex != entry:
            raise _Broken(seq, "entry_hash does not match the stored bytes", HASH)
        _check_columns(row)
        prev_raw = digest
        expected += 1
    return expected, prev_raw, prev_hex


def hash_pass(
    conn: Connection, from_seq: int, start_hash: str, head: int | None = None
) -> tuple[int, str]:
    """Re-hash the stored bytes and check every link, in seq order. Raises _Broken.

    Returns (entries checked, head hash). Entries are named by position, not by their seq
    value: a gap or a moved row is named by the gap check, always at or before the position
    where the links or hashes stop matching. This loop is the verifier's hot path: it touches
    two short strings and the bytes per entry, no more than it must.
    """
    sha256, tag = hashlib.sha256, HASH_TAG
    prev, prev_hex, done = bytes.fromhex(start_hash), start_hash, 0
    params = (from_seq,) if head is None else (from_seq, head)
    cursor = open_cursor(conn, hash_sql(conn.dialect.name, bounded=head is not None), params)
    try:
        for stored_prev, payload, entry in cursor:
            if stored_prev != prev_hex:
                problem = "prev_hash does not match the previous entry's hash"
                raise _Broken(from_seq + done, problem, LINK)
            prev = sha256(tag + prev + payload).digest()
            prev_hex = prev.hex()
            if prev_hex != entry:
                raise _Broken(from_seq + done, "entry_hash does not match the stored bytes", HASH)
            done += 1
    except (TypeError, ValueError) as exc:  # a NULL or mistyped payload or hash
        raise _Broken(from_seq + done, f"malformed entry ({type(exc).__name__})", HASH) from exc
    finally:
        cursor.close()
    return done, prev_hex


def _count_range(conn: Connection, low: int, high: int | None) -> tuple[int, int | None]:
    """(number of entries, largest seq) with low <= seq (<= high): an index-only count."""
    table = AuditEvent.__table__
    query = select(func.count(), func.max(table.c.seq)).where(table.c.seq >= low)
    if high is not None:
        query = query.where(table.c.seq <= high)
    count, largest = conn.execute(query).one()
    return int(count), None if largest is None else int(largest)


def gap_check(conn: Connection, from_seq: int, head: int | None = None) -> _Broken | None:
    """The first missing seq from `from_seq` on, or None.

    seq is the primary key (unique), so the entries from..max are gapless exactly when there
    are max - from + 1 of them: one index count, not a row-by-row walk. Only when that fails
    does a binary search over such counts locate the first missing number.
    """
    count, largest = _count_range(conn, from_seq, head)
    if largest is None or count == largest - from_seq + 1:
        return None
    low, high = from_seq, largest  # invariant: the first missing seq lies in [low, high]
    while low < high:
        middle = (low + high) // 2
        if _count_range(conn, from_seq, middle)[0] == middle - from_seq + 1:
            low = middle + 1
        else:
            high = middle
    following = conn.execute(
        select(func.min(AuditEvent.__table__.c.seq)).where(AuditEvent.__table__.c.seq > low)
    ).scalar()
    return _Broken(low, f"entry {low} is missing (found {following!r} next)")


def column_pass(conn: Connection, from_seq: int, head: int | None = None) -> _Broken | None:
    """The first entry whose columns differ from its stored bytes, or None.

    The database names the suspects; each is re-checked here with the exact encoder, so an
    escaping difference in the database's JSON quoting could only cost time, never a false alarm.
    """
    params = (from_seq,) if head is None else (from_seq, head)
    sql = columns_sql(conn.dialect.name, bounded=head is not None)
    try:
        suspects = [int(seq) for (seq,) in conn.exec_driver_sql(sql, params)]
    except DBAPIError:
        # SQLite enforces no column types: json_quote refuses a BLOB put into a text column.
        # Then every entry is a suspect, and the exact check below names the first bad one.
        if conn.dialect.name != "sqlite":
            raise
        return _exact_column_pass(conn, from_seq, head)
    for seq in suspects:  # normally none; sorted by seq
        row = conn.exec_driver_sql(select_sql(conn.dialect.name, where="seq = {p}"), (seq,)).first()
        try:
            _check_columns(tuple(row))
        except _Broken as broken:
            return broken
    return None


def _exact_column_pass(conn: Connection, from_seq: int, head: int | None) -> _Broken | None:
    """The column check in Python for every entry (slow; only after the fast query failed)."""
    where = "seq >= {p}" + (" AND seq <= {p}" if head is not None else "")
    params = (from_seq,) if head is None else (from_seq, head)
    with closing(stream_rows(conn, select_sql(conn.dialect.name, where=where), params)) as batches:
        for rows in batches:
            for row in rows:
                try:
                    _check_columns(row)
                except _Broken as broken:
                    return broken
    return None


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


def _head(conn: Connection) -> int:
    """The largest seq (0 for an empty log): one primary-key lookup."""
    largest = func.max(AuditEvent.__table__.c.seq)
    return int(conn.execute(select(func.coalesce(largest, 0))).scalar())


def _hash_and_gaps(
    conn: Connection, from_seq: int, start: str, head: int
) -> tuple[tuple[int, str] | None, list[_Broken]]:
    """The hash pass, then the gap check only when it is needed.

    seq is unique and every entry read lies in [from_seq, head], so the log is gapless exactly
    when the hash pass read head - from_seq + 1 entries: the count it keeps anyway. Only a
    shortfall, or a hash pass stopped early, calls for the gap check (to name the first gap).
    """
    try:
        hashed: tuple[int, str] | None = hash_pass(conn, from_seq, start, head)
        findings: list[_Broken] = []
    except _Broken as broken:
        hashed, findings = None, [broken]
    if hashed is None or hashed[0] != max(0, head - from_seq + 1):
        gap = gap_check(conn, from_seq, head)
        findings += [gap] if gap else []
    return hashed, findings


def _merge(
    hashed: tuple[int, str] | None, findings: list[_Broken], from_seq: int
) -> tuple[int, int, str]:
    """The earliest finding of the passes, else (checked, head_seq, head_hash)."""
    if findings:
        raise min(findings, key=_Broken.key)
    assert hashed is not None  # no finding means the hash pass completed
    checked, head_hash = hashed
    return checked, from_seq + checked - 1, head_hash


def scan_chain(conn: Connection, from_seq: int = 1) -> tuple[int, int, str]:
    """Verify entries from `from_seq` to the head on one connection, one pass after the other.

    Returns (checked, head_seq, head_hash); raises _Broken at the first bad entry.
    """
    from_seq = max(int(from_seq), 1)
    start, head = _start_hash(conn, from_seq), _head(conn)
    columns = column_pass(conn, from_seq, head)
    hashed, findings = _hash_and_gaps(conn, from_seq, start, head)
    return _merge(hashed, findings + ([columns] if columns else []), from_seq)


def scan_chain_parallel(conn: Connection, from_seq: int = 1) -> tuple[int, int, str]:
    """As `scan_chain`, with the column check on a second connection in a thread meanwhile.

    Both stop at the head read first on `conn`: the log only grows, so the second connection,
    whose snapshot is taken later, holds the same entries up to there.
    """
    from_seq = max(int(from_seq), 1)
    start, head = _start_hash(conn, from_seq), _head(conn)
    outcome: list[_Broken | BaseException | None] = []

    def on_own_connection() -> None:
        try:
            with conn.engine.connect() as other, other.begin():
                outcome.append(column_pass(other, from_seq, head))
        except BaseException as exc:  # handed to the caller's thread below
            outcome.append(exc)

    worker = threading.Thread(target=on_own_connection, name="audit-columns", daemon=True)
    worker.start()
    try:
        hashed, findings = _hash_and_gaps(conn, from_seq, start, head)
    finally:
        worker.join()
    columns = outcome[0]
    if isinstance(columns, BaseException) and not isinstance(columns, _Broken):
        raise columns
    return _merge(hashed, findings + ([columns] if columns else []), from_seq)


def can_use_second_connection(conn: Connection) -> bool:
    """A second connection sees the same data unless the database is private to one connection."""
    database = conn.engine.url.database
    return conn.dialect.name == "postgresql" or database not in (None, "", ":memory:")


def verify_connection(
    conn: Connection,
    *,
    from_seq: int = 1,
    checkpoint: Path | None = None,
    parallel: bool = False,
) -> VerificationResult:
    """Verify on an open connection inside one transaction.

    `parallel=True` runs the row pass on a second connection: only for a connection with no
    uncommitted changes of its own (the second one would not see them).
    """
    from decision_aid.audit.checkpoint import check_against_checkpoint

    scan = scan_chain_parallel if parallel and can_use_second_connection(conn) else scan_chain
    try:
        checked, head_seq, head_hash = scan(conn, from_seq)
    except _Broken as broken:
        checked = max(0, broken.seq - max(int(from_seq), 1))
        return VerificationResult(False, checked, broken.seq, broken.problem, 0, "")
    result = VerificationResult(True, checked, None, "", head_seq, head_hash)
    if checkpoint is not None:
        result = check_against_checkpoint(conn, result, checkpoint)
    return result
