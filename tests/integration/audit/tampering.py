"""What an attacker with a privileged database connection could do, for the tampering tests.

Every function works on an open Connection inside a transaction on which `bypass_triggers` was
called; the tests verify on that same connection and then roll back, so one log serves many cases.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from decision_aid.audit.chain import build_payload, entry_hash
from decision_aid.audit.schema import stored_columns

TEXT_COLUMNS = ("prev_hash", "entry_hash", "actor_id", "event_type", "case_ref", "decision_ref")
# Computed from the payload on SQLite (decision_aid/audit/schema.py): no statement can change them.
COMPUTED_ON_SQLITE = ("occurred_at", "actor_id", "event_type", "case_ref", "decision_ref")


def changeable(columns: tuple[str, ...], dialect: str) -> tuple[str, ...]:
    """The columns a tamperer can write on this database."""
    return tuple(c for c in columns if dialect != "sqlite" or c not in COMPUTED_ON_SQLITE)
FAR_SEQ = 10_000_000


def bypass_triggers(conn: Connection) -> None:
    """Switch the append-only triggers off for this transaction only (DDL is transactional)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("DROP TRIGGER audit_event_no_update")
        conn.exec_driver_sql("DROP TRIGGER audit_event_no_delete")
    else:
        conn.exec_driver_sql("ALTER TABLE audit_event DISABLE TRIGGER USER")


def restore_triggers(conn: Connection) -> None:
    """Put the triggers back (for tampering that is committed, e.g. before a CLI run)."""
    from decision_aid.audit.immutability import install_append_only_triggers

    if conn.dialect.name == "sqlite":
        install_append_only_triggers(conn, "audit_event")
    else:
        for trigger in ("audit_event_no_change", "audit_event_no_truncate"):
            conn.exec_driver_sql(f"ALTER TABLE audit_event ENABLE ALWAYS TRIGGER {trigger}")


def _value(conn: Connection, column: str, seq: int) -> Any:
    return conn.execute(
        text(f"SELECT {column} FROM audit_event WHERE seq = :s"), {"s": seq}
    ).scalar()


def _set(conn: Connection, column: str, seq: int, value: Any) -> None:
    conn.execute(
        text(f"UPDATE audit_event SET {column} = :v WHERE seq = :s"), {"v": value, "s": seq}
    )


def flip_text(value: str | None, position: int) -> str:
    """Change one character (or give a NULL column a value)."""
    if value is None:
        return "X"
    i = position % len(value)
    return value[:i] + chr(ord(value[i]) ^ 1) + value[i + 1:]


def flip_byte(conn: Connection, seq: int, column: str, position: int, mask: int = 1) -> None:
    """Flip one byte or character of one column of one row."""
    if column == "payload":
        payload = bytearray(_value(conn, "payload", seq))
        payload[position % len(payload)] ^= mask
        _set(conn, "payload", seq, bytes(payload))
    elif column == "seq":
        _set(conn, "seq", seq, seq + FAR_SEQ)
    elif column == "occurred_at" and conn.dialect.name == "postgresql":
        conn.execute(text(
            "UPDATE audit_event SET occurred_at = occurred_at + interval '1 microsecond' "
            "WHERE seq = :s"), {"s": seq})
    else:
        _set(conn, column, seq, flip_text(_value(conn, column, seq), position))


def delete_row(conn: Connection, seq: int) -> None:
    """Remove one entry."""
    conn.execute(text("DELETE FROM audit_event WHERE seq = :s"), {"s": seq})


def truncate_tail(conn: Connection, keep: int) -> None:
    """Cut every entry after `keep` (also what restoring an older backup looks like)."""
    conn.execute(text("DELETE FROM audit_event WHERE seq > :k"), {"k": keep})


def swap_payloads(conn: Connection, first: int, second: int) -> None:
    """Exchange two rows' stored bytes."""
    a, b = _value(conn, "payload", first), _value(conn, "payload", second)
    _set(conn, "payload", first, b)
    _set(conn, "payload", second, a)


def _rows_from(conn: Connection, seq: int) -> list[dict[str, Any]]:
    result = conn.execute(
        text("SELECT * FROM audit_event WHERE seq >= :s ORDER BY seq"), {"s": seq})
    return [dict(row._mapping) for row in result]


def _insert(conn: Connection, row: dict[str, Any]) -> None:
    """Insert a row as stored on this database (SQLite computes most columns, schema.py)."""
    names = stored_columns(conn.dialect.name)
    values = ", ".join(f":{name}" for name in names)
    conn.execute(text(f"INSERT INTO audit_event ({', '.join(names)}) VALUES ({values})"),
                 {name: row[name] for name in names})


def _rechained(row: dict[str, Any], seq: int, prev: str) -> dict[str, Any]:
    """The same event re-encoded at a new position with a freshly computed hash."""
    document = json.loads(row["payload"])
    payload = build_payload(
        seq=seq, occurred_at=document["occurred_at"], actor=document["with"]["actor"],
        actor_id=row["actor_id"], event_type=row["event_type"], case_ref=row["case_ref"],
        decision_ref=row["decision_ref"], data=document["with"]["data"],
    )
    return {**row, "seq": seq, "payload": payload, "prev_hash": prev,
            "entry_hash": entry_hash(prev, payload)}


def forge_replace(conn: Connection, at: int) -> None:
    """Rewrite entry `at` as a different, well-formed event with its own hash recomputed.

    The rewritten entry links correctly to its predecessor, so the first link that fails is the
    next entry's (at + 1); for the last entry only a signed checkpoint can tell.
    """
    row = _rows_from(conn, at)[0]
    forged = _rechained({**row, "event_type": "record.exported"}, at, row["prev_hash"])
    for column in changeable(("event_type", "payload", "entry_hash"), conn.dialect.name):
        _set(conn, column, at, forged[column])


def forge_insert_rechained(conn: Connection, at: int) -> None:
    """Insert a forged entry at `at`, shift the later ones and re-chain everything after it.

    The chain is then internally consistent: only the signed checkpoint can reveal it.
    """
    tail = _rows_from(conn, at)
    conn.execute(text("DELETE FROM audit_event WHERE seq >= :s"), {"s": at})
    forged = _rechained({**tail[0], "event_type": "record.exported"}, at, tail[0]["prev_hash"])
    _insert(conn, forged)
    prev = forged["entry_hash"]
    for offset, row in enumerate(tail, start=1):
        moved = _rechained(row, at + offset, prev)
        _insert(conn, moved)
        prev = moved["entry_hash"]
