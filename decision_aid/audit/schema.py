"""The audit table's shape per database: on SQLite the columns are computed from the stored bytes.

Every column of an event is also inside `payload`, the bytes the chain hashes. On PostgreSQL the
columns are stored, and the verifier checks them against the bytes (`verify.column_pass`). On
SQLite they are virtual generated columns: SQLite computes each one from `payload` when it is
read (and keeps the computed values in the indexes), so a column cannot hold anything but what
the hashed bytes say. SQLite refuses to UPDATE or INSERT a generated column even with the
append-only triggers dropped, and the stored row holds no copy to edit in the file.

Why: checking stored columns against the bytes cost SQLite more CPU than hashing them (about
15,000 instructions per entry against 1,000 to stream the bytes, docs/audit-log.md), and kept
verification of a million events at 1.4 to 1.5 times the floor (quality target T18: 1.25).
With nothing to check, the verifier checks instead that the table's definition is this one
(`definition_problem`): a definition rewritten to compute a column some other way is named.

PostgreSQL 15 cannot do the same: its generated columns are stored (so still to be checked), and
text-to-timestamptz is not immutable. It keeps stored columns, checked in SQL in C.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.engine import Connection

from decision_aid.models.audit import AuditEvent

TABLE = "audit_event"
# The columns written by an append on SQLite; the others are computed from payload.
SQLITE_STORED = ("seq", "payload", "prev_hash", "entry_hash")
# Payloads that are not JSON (only a byte edit in the file could make one) give NULL columns, so
# reading the table never fails on them; the verifier names such an entry by its hash.
_JSON = (
    "CASE WHEN json_valid(CAST(payload AS TEXT)) "
    "THEN json_extract(CAST(payload AS TEXT), '$.{key}') END"
)
# The payload keeps times as "YYYY-MM-DDTHH:MM:SS.ffffffZ" (chain.format_time); SQLAlchemy's
# SQLite DATETIME reads and compares "YYYY-MM-DD HH:MM:SS.ffffff", so the column gives that.
_OCCURRED = "replace(substr(" + _JSON.format(key="occurred_at") + ", 1, 26), 'T', ' ')"

# The exact CREATE TABLE text SQLite keeps in sqlite_master, compared by the verifier. The
# computed columns carry no NOT NULL: they hold whatever the hashed bytes say (the app always
# writes every key), even NULL for bytes that are not JSON, so such a row can still be read.
SQLITE_TABLE_SQL = (
    f"CREATE TABLE {TABLE} (\n"
    "\tseq INTEGER NOT NULL,\n"
    "\tpayload BLOB NOT NULL,\n"
    "\tprev_hash VARCHAR(64) NOT NULL,\n"
    "\tentry_hash VARCHAR(64) NOT NULL,\n"
    f"\toccurred_at DATETIME GENERATED ALWAYS AS ({_OCCURRED}) VIRTUAL,\n"
    f"\tactor_id VARCHAR(64) GENERATED ALWAYS AS ({_JSON.format(key='actor_id')}) VIRTUAL,\n"
    f"\tevent_type VARCHAR(64) GENERATED ALWAYS AS ({_JSON.format(key='event_type')}) "
    "VIRTUAL,\n"
    f"\tcase_ref VARCHAR(64) GENERATED ALWAYS AS ({_JSON.format(key='case_ref')}) VIRTUAL,\n"
    f"\tdecision_ref VARCHAR(64) GENERATED ALWAYS AS ({_JSON.format(key='decision_ref')}) "
    "VIRTUAL,\n"
    "\tCONSTRAINT pk_audit_event PRIMARY KEY (seq),\n"
    "\tCONSTRAINT ck_audit_event_seq_positive CHECK (seq >= 1),\n"
    "\tCONSTRAINT uq_audit_event_prev_hash UNIQUE (prev_hash),\n"
    "\tCONSTRAINT uq_audit_event_entry_hash UNIQUE (entry_hash)\n"
    ")"
)
# A declarative model's __table__ is a Table; SQLAlchemy types it as FromClause (a mapping may
# be to any selectable), which has no indexes or create().
_MODEL_TABLE = cast(Table, AuditEvent.__table__)


def indexes() -> dict[str, list[str]]:
    """The model's indexes (name -> columns), created the same way on both databases."""
    return {
        str(index.name): [column.name for column in index.columns]
        for index in _MODEL_TABLE.indexes
    }


# Every column of the model: what an INSERT names where they are all stored.
_ALL_COLUMNS = tuple(column.name for column in _MODEL_TABLE.columns)


def computes_columns(dialect: str) -> bool:
    """Whether this database computes the event columns from the bytes (else they are stored,
    and the verifier checks them row by row)."""
    return dialect == "sqlite"


def stored_columns(dialect: str) -> tuple[str, ...]:
    """The columns an INSERT names on this database."""
    return SQLITE_STORED if computes_columns(dialect) else _ALL_COLUMNS


def stored_values(dialect: str, row: dict[str, Any]) -> dict[str, Any]:
    """The part of a full row an INSERT may write on this database."""
    return {name: row[name] for name in stored_columns(dialect)}


def create_table(conn: Connection) -> None:
    """Create the audit table and its indexes (not the triggers): for benchmarks and tests that
    build a bare log; the app's own database gets it from migrations 0002 and 0010."""
    if not computes_columns(conn.dialect.name):
        _MODEL_TABLE.create(conn)
        return
    conn.exec_driver_sql(SQLITE_TABLE_SQL)
    for name, columns in indexes().items():
        conn.exec_driver_sql(f"CREATE INDEX {name} ON {TABLE} ({', '.join(columns)})")


def definition_problem(conn: Connection) -> str | None:
    """On SQLite, why the table is not the one whose columns are computed from the bytes (else
    None). Elsewhere None: the stored columns are checked row by row instead."""
    if not computes_columns(conn.dialect.name):
        return None
    found = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,)
    ).scalar()
    if found == SQLITE_TABLE_SQL:
        return None
    if found is None:
        return f"the {TABLE} table is missing"
    return (
        f"the {TABLE} table's definition is not the expected one, so its columns may not be "
        "the values in the hashed bytes (run `flask db upgrade`; if it is up to date, the "
        "definition was altered)"
    )
