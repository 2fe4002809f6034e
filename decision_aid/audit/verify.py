"""Verifying the chain: every link, every hash, every column against the stored bytes.

Checks whose first failures are merged into the one a single row-by-row loop would name
(earliest seq first; within one entry: gap, link, hash, columns):

* the hash pass (the hot loop; in C on SQLite, see native.py) streams only `prev_hash`,
  `payload` and `entry_hash`, checks each link and re-hashes the stored bytes; with
  `processes` > 1 the log is cut into ranges hashed at once in forked children (workers.py),
  each range starting from the stored hash before it, which the range before checks;
* the gap check is free when the log is whole: seq is unique, so the entries from..head are
  gapless exactly when the hash pass read head - from + 1 of them; only otherwise does a
  binary search over index counts name the first missing seq;
* the columns: on SQLite they are computed from the bytes (schema.py), so only the table's
  definition is checked; on PostgreSQL one SQL query, run in C by the server, returns only
  suspect rows: those whose payload does not start with the JSON text built from the columns
  (to_json; exact because JSON string literals are self-delimiting, see `chain.header_for`).
  Each suspect is re-checked in Python with our own encoder, so a quoting difference in the
  database could only cost time, never raise a false alarm; equal bytes are equal bytes, so it
  can never hide a mismatch either.

`verify_chain` runs the column check on a second connection in a thread while Python hashes
(psycopg releases the GIL while the server works). `verify_connection` on a caller's connection
runs them in turn, so changes not yet committed on it (the tampering tests) are seen by every
check.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Generator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from decision_aid.audit import native, workers
from decision_aid.audit.canonical import encode_string
from decision_aid.audit.chain import GENESIS_HASH, HASH_TAG, HEADER_FORMAT
from decision_aid.audit.schema import computes_columns, definition_problem
from decision_aid.models.audit import AuditEvent

BATCH = 10_000
# Below this many entries per process, forking costs more than it saves (a pass over 50,000
# entries takes about 60 ms).
SPLIT_MIN_ENTRIES = 50_000
_MAX_SEQ = 2**63 - 1  # "no upper bound" for the C hash pass, which always takes one

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
# PostgreSQL only: on SQLite the columns are computed from the bytes (schema.py).
_HEADER_SQL = (
    "convert_to('{{\"actor_id\":' || coalesce(to_json(a.actor_id)::text, 'null') || "
    "',\"case_ref\":' || coalesce(to_json(a.case_ref)::text, 'null') || "
    "',\"decision_ref\":' || coalesce(to_json(a.decision_ref)::text, 'null') || "
    "',\"event_type\":' || coalesce(to_json(a.event_type)::text, 'null') || "
    "',\"occurred_at\":' || coalesce(to_json({occ})::text, 'null') || "
    "',\"seq\":' || a.seq::text || ',\"v\":1,\"with\":', 'UTF8')"
)
GAP, LINK, HASH, COLUMNS = 0, 1, 2, 3  # the order in which one entry's checks are reported
# The findings' wording, the same whichever loop (Python or C) or check (`verify --record`) finds it.
LINK_PROBLEM = "prev_hash does not match the previous entry's hash"
HASH_PROBLEM = "entry_hash does not match the stored bytes"


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

    Runs entirely in the database (to_json does the JSON string encoding); a healthy log returns
    no rows. PostgreSQL only: SQLite's columns are computed from the bytes (schema.py).
    """
    p = _placeholder(dialect)
    header = _HEADER_SQL.format(occ=_OCCURRED_SQL[dialect].format(t="a."))
    mismatch = f"position({header} in a.payload) IS DISTINCT FROM 1"
    upper = f" AND a.seq <= {p}" if bounded else ""
    where = f"a.seq >= {p}{upper} AND {mismatch}"  # fixed text from this module only
    return f"SELECT a.seq FROM audit_event a WHERE {where} ORDER BY a.seq"  # noqa: S608


def open_cursor(conn: Connection, sql: str, params: tuple[Any, ...]) -> Any:
    """An executed DBAPI cursor to iterate directly (no per-row generator or batch lists):
    a named (server-side) cursor fetching BATCH rows at a time on PostgreSQL. Close it after."""
    dbapi = conn.connection.driver_connection
    if dbapi is None:  # only once the pool has invalidated it: .cursor() would fail anyway
        raise RuntimeError("the connection has no DBAPI connection (it was invalidated)")
    if conn.dialect.name == "postgresql":
        cursor = dbapi.cursor(name=f"audit_verify_{threading.get_ident()}")
        cursor.itersize = BATCH
    else:
        cursor = dbapi.cursor()
    cursor.execute(sql, params)
    return cursor


def stream_rows(
    conn: Connection, sql: str, params: tuple[Any, ...]
) -> Generator[list[Any], None, None]:
    """Batches of raw tuples (for callers that want lists). A generator, so a caller that stops
    early can close() it (contextlib.closing) and the cursor is closed at once."""
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
            raise _Broken(seq, LINK_PROBLEM, LINK)
        try:
            digest = sha256(tag + prev_raw + payload).digest()
        except TypeError as exc:
            raise _Broken(seq, f"malformed entry ({type(exc).__name__})", HASH) from exc
        prev_hex = digest.hex()
        if prev_hex != entry:
            raise _Broken(seq, HASH_PROBLEM, HASH)
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
    two short strings and the bytes per entry, no more than it must. On SQLite the same loop
    runs in C when it can (native.py); the Python loop below is the reference and the fallback.
    """
    scan = native.scanner(conn)
    if scan is not None and native.plain_hex(start_hash):
        return _native_hash_pass(scan, from_seq, start_hash, head)
    sha256, tag = hashlib.sha256, HASH_TAG
    prev, prev_hex, done = bytes.fromhex(start_hash), start_hash, 0
    params = (from_seq,) if head is None else (from_seq, head)
    cursor = open_cursor(conn, hash_sql(conn.dialect.name, bounded=head is not None), params)
    try:
        for stored_prev, payload, entry in cursor:
            if stored_prev != prev_hex:
                raise _Broken(from_seq + done, LINK_PROBLEM, LINK)
            prev = sha256(tag + prev + payload).digest()
            prev_hex = prev.hex()
            if prev_hex != entry:
                raise _Broken(from_seq + done, HASH_PROBLEM, HASH)
            done += 1
    except (TypeError, ValueError) as exc:  # a NULL or mistyped payload or hash
        raise _Broken(from_seq + done, f"malformed entry ({type(exc).__name__})", HASH) from exc
    finally:
        cursor.close()
    return done, prev_hex


_NATIVE_FINDINGS = {
    native.LINK: (LINK_PROBLEM, LINK),
    native.HASH: (HASH_PROBLEM, HASH),
    native.MALFORMED: ("malformed entry (TypeError)", HASH),  # what the Python loop raises
}


def _native_hash_pass(
    scan: native.NativeScan, from_seq: int, start_hash: str, head: int | None
) -> tuple[int, str]:
    """`hash_pass` by the C loop (native.py): the same checks, worded here the same way."""
    done, found, last = scan(from_seq, _MAX_SEQ if head is None else head, start_hash)
    if found != native.NONE:
        problem, order = _NATIVE_FINDINGS[found]
        raise _Broken(from_seq + done, problem, order)
    return done, last


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
    suspects = [int(seq) for (seq,) in conn.exec_driver_sql(sql, params)]
    for seq in suspects:  # normally none; sorted by seq
        # .one(): the database named this seq just now, in this transaction.
        row = conn.exec_driver_sql(select_sql(conn.dialect.name, where="seq = {p}"), (seq,)).one()
        try:
            _check_columns(tuple(row))
        except _Broken as broken:
            return broken
    return None


def exact_column_pass(conn: Connection, from_seq: int, head: int | None) -> _Broken | None:
    """The column check in Python for every entry: slow, for migration 0010's check of stored
    SQLite columns before they become computed ones."""
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
    return int(conn.execute(select(func.coalesce(largest, 0))).scalar_one())  # an aggregate: one row


def _hash_range(low: int, high: int, start: str) -> Callable[[Connection], tuple[Any, ...]]:
    """A picklable-result task: the hash pass over [low, high], as ("ok", checked, head hash)
    or ("broken", seq, problem, order), for a child process (workers.py)."""

    def task(conn: Connection) -> tuple[Any, ...]:
        try:
            return ("ok", *hash_pass(conn, low, start, high))
        except _Broken as broken:
            return ("broken", broken.seq, broken.problem, broken.order)

    return task


def _ranges(from_seq: int, head: int, parts: int) -> list[tuple[int, int]]:
    """[from_seq, head] cut into `parts` contiguous ranges of about equal size."""
    size = head - from_seq + 1
    bounds = [from_seq + size * i // parts for i in range(parts + 1)]
    return [(bounds[i], bounds[i + 1] - 1) for i in range(parts) if bounds[i] <= bounds[i + 1] - 1]


def _split_hash_pass(
    conn: Connection, from_seq: int, start: str, head: int, processes: int
) -> tuple[tuple[int, str] | None, list[_Broken]]:
    """The hash pass over ranges at once: the first here, each other one in a child process.

    Every entry's hash covers the stored hash of the one before, so a range can start from
    that stored hash; the range before checks that this hash is right (its last entry), and the
    range itself checks the link. Together that is exactly the one-process chain check.
    """
    ranges = _ranges(from_seq, head, processes)
    findings: list[_Broken] = []
    pending = []
    for low, high in ranges[1:]:
        try:
            pending.append(workers.start(conn, _hash_range(low, high, _start_hash(conn, low))))
        except _Broken as broken:  # the entry before this range is missing
            findings.append(broken)
    outcomes = [_hash_range(ranges[0][0], ranges[0][1], start)(conn)]
    outcomes += [child.result() for child in pending]
    checked, head_hash = 0, start
    for outcome in outcomes:
        if outcome[0] == "broken":
            findings.append(_Broken(*outcome[1:]))
        else:
            checked, head_hash = checked + outcome[1], outcome[2]
    return (None if findings else (checked, head_hash)), findings


def _hash_and_gaps(
    conn: Connection, from_seq: int, start: str, head: int, processes: int = 1
) -> tuple[tuple[int, str] | None, list[_Broken]]:
    """The hash pass (split over `processes` for a long enough log), then the gap check only
    when it is needed.

    seq is unique and every entry read lies in [from_seq, head], so the log is gapless exactly
    when the hash pass read head - from_seq + 1 entries: the count it keeps anyway. Only a
    shortfall, or a hash pass stopped early, calls for the gap check (to name the first gap).
    """
    if processes > 1 and head - from_seq + 1 >= SPLIT_MIN_ENTRIES * processes:
        hashed, findings = _split_hash_pass(conn, from_seq, start, head, processes)
    else:
        try:
            hashed, findings = hash_pass(conn, from_seq, start, head), []
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
    columns = column_pass(conn, from_seq, head) if not computes_columns(conn.dialect.name) else None
    hashed, findings = _hash_and_gaps(conn, from_seq, start, head)
    return _merge(hashed, findings + ([columns] if columns else []), from_seq)


def scan_chain_parallel(
    conn: Connection, from_seq: int = 1, processes: int = 1
) -> tuple[int, int, str]:
    """As `scan_chain`, with the column check (PostgreSQL) on a second connection in a thread
    meanwhile, and the hash pass split over `processes` processes.

    All stop at the head read first on `conn`: the log only grows, so the other connections,
    whose snapshots are taken later, hold the same entries up to there.
    """
    from_seq = max(int(from_seq), 1)
    start, head = _start_hash(conn, from_seq), _head(conn)
    outcome: list[_Broken | BaseException | None] = [None]

    def on_own_connection() -> None:
        try:
            with conn.engine.connect() as other, other.begin():
                outcome[0] = column_pass(other, from_seq, head)
        except BaseException as exc:  # handed to the caller's thread below
            outcome[0] = exc

    worker = None
    if not computes_columns(conn.dialect.name):  # PostgreSQL: stored columns to check
        worker = threading.Thread(target=on_own_connection, name="audit-columns", daemon=True)
        worker.start()
    try:
        hashed, findings = _hash_and_gaps(conn, from_seq, start, head, processes)
    finally:
        if worker is not None:
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
    processes: int = 1,
) -> VerificationResult:
    """Verify on an open connection inside one transaction.

    `parallel=True` runs the column check on a second connection, and `processes` > 1 splits
    the hash pass over child processes with their own connections: only for a connection with
    no uncommitted changes of its own (the others would not see them).
    """
    from decision_aid.audit.checkpoint import check_against_checkpoint

    problem = definition_problem(conn)
    if problem is not None:
        return VerificationResult(False, 0, None, problem, 0, "")
    concurrent = parallel and can_use_second_connection(conn)
    children = processes if concurrent and workers.fork_available() else 1
    try:
        if concurrent:
            checked, head_seq, head_hash = scan_chain_parallel(conn, from_seq, children)
        else:
            checked, head_seq, head_hash = scan_chain(conn, from_seq)
    except _Broken as broken:
        checked = max(0, broken.seq - max(int(from_seq), 1))
        return VerificationResult(False, checked, broken.seq, broken.problem, 0, "")
    result = VerificationResult(True, checked, None, "", head_seq, head_hash)
    if checkpoint is not None:
        result = check_against_checkpoint(conn, result, checkpoint)
    return result
