"""Appending to the hash chain: payload layout, entry hash, and `record_event`.

Layout of the stored canonical bytes (JCS, keys in this order because JCS sorts them):

    {"actor_id":..,"case_ref":..,"decision_ref":..,"event_type":..,"occurred_at":"...Z",
     "seq":N,"v":1,"with":{"actor":{"name":..,"role":..}|null,"data":{..}}}

Every column comes first, so the verifier can check the columns against the bytes by building
that prefix from the columns and comparing, without parsing JSON (see `header_for`).

entry_hash = SHA-256(HASH_TAG || raw prev_hash (32 bytes) || payload), hex. The first entry's
prev_hash is GENESIS_HASH (64 zeros).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from decision_aid import clock
from decision_aid.audit.canonical import (
    CanonicalisationError,
    encode_normalised,
    encode_string,
    normalise,
)
from decision_aid.audit.schema import stored_values
from decision_aid.database import IMMEDIATE, refuse_stray_write
from decision_aid.extensions import db
from decision_aid.models.audit import AuditEvent

if TYPE_CHECKING:
    from decision_aid.models.user import User

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
HASH_TAG = b"decision-aid/audit-event/v1\n"
GENESIS_HASH = "0" * 64
# pg_advisory_xact_lock key: the bytes "DAaudit1" as a signed 64-bit integer.
ADVISORY_LOCK_KEY = int.from_bytes(b"DAaudit1", "big", signed=True)
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
EVENT_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
MAX_REF_LENGTH = 64
MAX_DATA_STRING = 256
HEADER_FORMAT = (
    '{"actor_id":%s,"case_ref":%s,"decision_ref":%s,"event_type":%s,'
    '"occurred_at":%s,"seq":%d,"v":' + str(FORMAT_VERSION) + ',"with":'
)


def entry_hash(prev_hash: str, payload: bytes) -> str:
    """The chain link: domain tag, the previous hash and the stored bytes, nothing else."""
    return hashlib.sha256(HASH_TAG + bytes.fromhex(prev_hash) + payload).hexdigest()


def format_time(moment: dt.datetime) -> str:
    """UTC with microseconds and a Z: one spelling per instant, so the bytes are canonical."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime refused: use decision_aid.clock.now()")
    return moment.astimezone(dt.UTC).strftime(TIME_FORMAT)


def _literal(value: str | None) -> str:
    return "null" if value is None else encode_string(value)


def header_for(
    actor_id: str | None,
    case_ref: str | None,
    decision_ref: str | None,
    event_type: str,
    occurred_at: str,
    seq: int,
) -> str:
    """The exact leading bytes (as text) of a payload holding these column values.

    JSON string literals are self-delimiting, so a payload starting with this text holds exactly
    these values: comparing the prefix is as strict as parsing, and much cheaper.
    """
    return HEADER_FORMAT % (
        _literal(actor_id),
        _literal(case_ref),
        _literal(decision_ref),
        encode_string(event_type),
        encode_string(occurred_at),
        seq,
    )


def build_payload(
    *,
    seq: int,
    occurred_at: str,
    actor: Mapping[str, str] | None,
    actor_id: str | None,
    event_type: str,
    case_ref: str | None,
    decision_ref: str | None,
    data: Mapping[str, Any],
) -> bytes:
    """Canonical bytes of every column plus the actor's name and role and the event's data."""
    body = encode_normalised(
        normalise({"actor": dict(actor) if actor else None, "data": dict(data)}))
    header = header_for(actor_id, case_ref, decision_ref, event_type, occurred_at, seq)
    return join_payload(header, body)


def join_payload(header: str, body: bytes) -> bytes:
    """header + body + "}" is the JCS encoding of the whole document: its members are the
    columns in `HEADER_FORMAT`'s order (which is JCS's order) and then "with", the last key."""
    try:
        return header.encode("utf-8") + body + b"}"
    except UnicodeEncodeError as exc:  # a lone surrogate in a reference
        raise CanonicalisationError("audit fields contain an unpaired surrogate") from exc


def _check_fields(event_type: str, case_ref: str | None, decision_ref: str | None) -> None:
    if not isinstance(event_type, str) or not EVENT_TYPE_RE.match(event_type):
        raise ValueError(f"bad audit event type {event_type!r} (expected e.g. 'record.viewed')")
    if len(event_type) > MAX_REF_LENGTH:
        raise ValueError("audit event type too long")
    for name, ref in (("case_ref", case_ref), ("decision_ref", decision_ref)):
        if ref is not None and (not isinstance(ref, str) or not 0 < len(ref) <= MAX_REF_LENGTH):
            raise ValueError(f"{name} must be a non-empty string of at most {MAX_REF_LENGTH}")


def _check_no_free_text(value: Any) -> None:
    """Audit bytes can never be erased, so they hold ids and codes, never free text (disposal)."""
    if isinstance(value, str) and len(value) > MAX_DATA_STRING:
        raise CanonicalisationError(
            f"audit data strings are capped at {MAX_DATA_STRING} characters: store free text "
            "in the (disposable) record and only its id in the audit event"
        )
    if isinstance(value, dict):
        for item in value.values():
            _check_no_free_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_no_free_text(item)


def actor_fields(actor: User | None) -> tuple[str | None, dict[str, str] | None]:
    """The actor's id for the column and name/role for the bytes; None (or anonymous) = system."""
    if actor is None or not getattr(actor, "is_authenticated", True):
        return None, None
    role = getattr(actor, "role", "")
    role_text = str(getattr(role, "value", role))
    return str(actor.id), {"name": str(actor.display_name), "role": role_text}


def _append_session() -> tuple[Session, Connection]:
    """The caller's session and its connection, inside a write transaction (started here if
    there is none yet)."""
    session: Session = db.session()
    if not session.in_transaction():
        return session, session.connection(execution_options={IMMEDIATE: True})
    conn = session.connection()
    if conn.dialect.name == "sqlite" and not conn.get_execution_options().get(IMMEDIATE):
        log.warning(
            "audit event appended in a deferred SQLite transaction: use "
            "decision_aid.database.write_transaction() so the write lock is taken first"
        )
    return session, conn


def _take_append_lock(conn: Connection) -> None:
    """PostgreSQL: one appender at a time per database, released at commit or rollback."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})


def read_head(session: Session) -> tuple[int, str]:
    """The last entry's seq and hash, or (0, GENESIS_HASH) for an empty log."""
    seq, entry, _ = _head_row(session.connection())
    return seq, entry


_TABLE = cast(Table, AuditEvent.__table__)
# Core statements on the session's connection: an append is one read and one insert, and the
# ORM's execute and unit of work around them cost more CPU than the statements (target T23).
_HEAD = (select(_TABLE.c.seq, _TABLE.c.entry_hash, _TABLE.c.occurred_at)
         .order_by(_TABLE.c.seq.desc()).limit(1))
_INSERT = _TABLE.insert()


def _head_row(conn: Connection) -> tuple[int, str, dt.datetime | None]:
    """The last entry's seq, hash and time in one read (None time for an empty log)."""
    row = conn.execute(_HEAD).first()
    return (0, GENESIS_HASH, None) if row is None else (int(row[0]), str(row[1]), row[2])


def _not_before(before: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    """The event's time: now, but never earlier than the entry before it.

    Times then never decrease along seq, even if the server clock steps back (NTP, a restored
    VM, two app hosts), so a date range maps exactly to a seq range (the DPO's audit-log search
    relies on it) and the log reads in order.
    """
    if before is None:
        return now
    if before.tzinfo is None:  # SQLite hands back naive UTC
        before = before.replace(tzinfo=dt.UTC)
    return max(now, before.astimezone(dt.UTC))


@dataclass(frozen=True, slots=True)
class AppendedEvent:
    """The values `record_event` inserted: the row as read back later, minus the ORM. Making an
    AuditEvent instance here cost about as much as the hash and the insert together, inside the
    append lock while other writers wait (target T27); read the row itself for an AuditEvent."""

    seq: int
    occurred_at: dt.datetime
    actor_id: str | None
    event_type: str
    case_ref: str | None
    decision_ref: str | None
    payload: bytes
    prev_hash: str
    entry_hash: str


def record_event(
    event_type: str,
    *,
    actor: User | None,
    case_ref: str | None = None,
    decision_ref: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> AppendedEvent:
    """Append one event inside the caller's current transaction and return its values.

    The row is inserted with a Core statement (audit rows are insert-only: the session has
    nothing to track).

    The caller commits (normally via `write_transaction()`), so the event and the change it
    records commit together or not at all. Raises ValueError for floats, NaN, integers beyond
    +/-(2^53-1), strings longer than the free-text cap, or malformed types and references.
    """
    _check_fields(event_type, case_ref, decision_ref)
    actor_id, actor_info = actor_fields(actor)
    member = normalise({"actor": actor_info, "data": dict(data or {})})
    _check_no_free_text(member["data"])
    body = encode_normalised(member)  # before the append lock: less work while others wait (T27)
    session, conn = _append_session()
    _take_append_lock(conn)
    last_seq, prev_hash, head_time = _head_row(conn)
    moment = _not_before(head_time, clock.now().astimezone(dt.UTC))
    header = header_for(actor_id, case_ref, decision_ref, event_type, format_time(moment),
                        last_seq + 1)
    payload = join_payload(header, body)
    row: dict[str, Any] = {
        "seq": last_seq + 1,
        "occurred_at": moment,
        "actor_id": actor_id,
        "event_type": event_type,
        "case_ref": case_ref,
        "decision_ref": decision_ref,
        "payload": payload,
        "prev_hash": prev_hash,
        "entry_hash": entry_hash(prev_hash, payload),
    }
    refuse_stray_write(session, "an audit append")  # what the ORM flush hook checked before
    conn.execute(_INSERT, stored_values(conn.dialect.name, row))
    return AppendedEvent(**row)
