"""Append-only tables enforced by the database itself, for the audit log and for other tables.

Use from an Alembic migration:

    from decision_aid.audit.immutability import install_append_only_triggers
    install_append_only_triggers(op, "decision")

SQLite: BEFORE UPDATE / BEFORE DELETE triggers that RAISE(ABORT). PostgreSQL: one shared trigger
function, a row trigger for UPDATE OR DELETE and a statement trigger for TRUNCATE, both set to
ENABLE ALWAYS so `SET session_replication_role = replica` (which skips ordinary triggers, even for
the table owner) cannot switch them off. Only `ALTER TABLE ... DISABLE TRIGGER` by the owner or a
superuser can; the app's database role should therefore not own the tables (docs/audit-log.md).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import text

from decision_aid.models.audit import AuditLogImmutableError

__all__ = [
    "AuditLogImmutableError",
    "append_only_sql",
    "install_append_only_triggers",
    "remove_append_only_triggers",
]

PG_FUNCTION = "decision_aid_refuse_change"
_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,50}$")

_PG_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    RAISE EXCEPTION '% on % refused: the table is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$fn$
"""


def _checked(table: str) -> str:
    """Table names go into DDL text, so only plain lower-case identifiers are accepted."""
    if not _NAME_RE.match(table):
        raise ValueError(f"unsupported table name for append-only triggers: {table!r}")
    return table


def append_only_sql(dialect: str, table: str) -> list[str]:
    """The DDL statements that make `table` append-only on this dialect."""
    table = _checked(table)
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{op} on {table} refused: the table is append-only'); END"
            for op in ("UPDATE", "DELETE")
        ]
    if dialect == "postgresql":
        return [
            _PG_FUNCTION_SQL,
            f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()",
            f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_no_change",
            f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_no_truncate",
        ]
    raise NotImplementedError(f"append-only triggers not written for {dialect}")


def remove_append_only_sql(dialect: str, table: str) -> list[str]:
    """The DDL that undoes `append_only_sql` (for migration downgrades only)."""
    table = _checked(table)
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_no_{op}" for op in ("update", "delete")]
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
    ]


def _bind_and_runner(op_or_conn: Any) -> tuple[Any, Any]:
    """Accept alembic's `op` (has get_bind) or a SQLAlchemy Connection."""
    if hasattr(op_or_conn, "get_bind"):
        return op_or_conn.get_bind(), op_or_conn.execute
    return op_or_conn, op_or_conn.execute


def install_append_only_triggers(op_or_conn: Any, table: str) -> None:
    """Create the triggers refusing UPDATE and DELETE (and TRUNCATE on PostgreSQL) on `table`."""
    bind, run = _bind_and_runner(op_or_conn)
    for statement in append_only_sql(bind.dialect.name, table):
        run(text(statement))


def remove_append_only_triggers(op_or_conn: Any, table: str) -> None:
    """Drop those triggers again (downgrade). The shared PostgreSQL function is left in place."""
    bind, run = _bind_and_runner(op_or_conn)
    for statement in remove_append_only_sql(bind.dialect.name, table):
        run(text(statement))
