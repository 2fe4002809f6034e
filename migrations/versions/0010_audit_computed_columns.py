"""Audit log on SQLite: the columns become virtual columns computed from the hashed bytes.

Why (decision_aid/audit/schema.py): a column computed from `payload` cannot differ from it, so
the verifier no longer checks each column against the bytes, which cost SQLite more than the
hashing (quality target T18). SQLite cannot change a column's kind in place, so the table is
rebuilt: the stored columns are copied, the others are computed as the rows go in, and the
indexes and append-only triggers are made again. Events keep their seq, bytes and hashes, so the
chain and every signed checkpoint stay valid.

Before anything is copied, every row's columns are checked against its bytes: a table whose
columns were altered is refused (the rebuild would otherwise drop the evidence), with the seq
to investigate. PostgreSQL is unchanged (its columns stay stored and checked).

Revision ID: 0010_audit_computed_columns
Revises: 0009_audit_list_indexes
Create Date: 2026-11-30
"""

from alembic import op

from decision_aid.audit.immutability import (
    install_append_only_triggers,
    remove_append_only_triggers,
)
from decision_aid.audit.schema import SQLITE_STORED, SQLITE_TABLE_SQL, TABLE
from decision_aid.audit.verify import exact_column_pass

revision = "0010_audit_computed_columns"
down_revision = "0009_audit_list_indexes"
branch_labels = None
depends_on = None

OLD = "audit_event_0009"
# The indexes after 0009 (frozen here: the model may change later, this revision may not).
INDEXES = {
    "ix_audit_event_decision_ref_seq": ["decision_ref", "seq"],
    "ix_audit_event_case_ref_seq": ["case_ref", "seq"],
    "ix_audit_event_actor_id_seq": ["actor_id", "seq"],
    "ix_audit_event_event_type_seq": ["event_type", "seq"],
    "ix_audit_event_actor_id_event_type_seq": ["actor_id", "event_type", "seq"],
    "ix_audit_event_occurred_at_seq": ["occurred_at", "seq"],
}
ALL_COLUMNS = ("seq", "occurred_at", "actor_id", "event_type", "case_ref", "decision_ref",
               "payload", "prev_hash", "entry_hash")
# The table as 0002 created it (what SQLAlchemy emitted for the model), for the downgrade.
PLAIN_TABLE_SQL = (
    f"CREATE TABLE {TABLE} (\n"
    "\tseq INTEGER NOT NULL,\n"
    "\toccurred_at DATETIME NOT NULL,\n"
    "\tactor_id VARCHAR(64),\n"
    "\tevent_type VARCHAR(64) NOT NULL,\n"
    "\tcase_ref VARCHAR(64),\n"
    "\tdecision_ref VARCHAR(64),\n"
    "\tpayload BLOB NOT NULL,\n"
    "\tprev_hash VARCHAR(64) NOT NULL,\n"
    "\tentry_hash VARCHAR(64) NOT NULL,\n"
    "\tCONSTRAINT pk_audit_event PRIMARY KEY (seq),\n"
    "\tCONSTRAINT ck_audit_event_seq_positive CHECK (seq >= 1),\n"
    "\tCONSTRAINT uq_audit_event_prev_hash UNIQUE (prev_hash),\n"
    "\tCONSTRAINT uq_audit_event_entry_hash UNIQUE (entry_hash)\n"
    ")"
)


def _refuse_altered_columns() -> None:
    """Stop before the rebuild if any stored column differs from its event's bytes."""
    broken = exact_column_pass(op.get_bind(), 1, None)
    if broken is not None:
        raise RuntimeError(
            f"audit_event entry {broken.seq}: {broken.problem}. The log was altered; run "
            "`flask --app decision_aid audit verify` and investigate before upgrading."
        )


def _rebuild(new_table_sql: str, columns: tuple[str, ...]) -> None:
    """Move the rows into a table made by `new_table_sql`, with the same indexes and triggers."""
    remove_append_only_triggers(op, TABLE)
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
    op.execute(new_table_sql)
    names = ", ".join(columns)
    op.execute(f"INSERT INTO {TABLE} ({names}) SELECT {names} FROM {OLD} ORDER BY seq")  # noqa: S608
    op.execute(f"DROP TABLE {OLD}")
    for name, indexed in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON {TABLE} ({', '.join(indexed)})")
    install_append_only_triggers(op, TABLE)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _refuse_altered_columns()
    _rebuild(SQLITE_TABLE_SQL, SQLITE_STORED)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _rebuild(PLAIN_TABLE_SQL, ALL_COLUMNS)
