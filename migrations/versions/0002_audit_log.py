"""Audit log: the append-only, hash-chained audit_event table and its triggers.

Hand-written: the triggers differ per dialect (see decision_aid.audit.immutability), and seq is an
INTEGER PRIMARY KEY on SQLite (the rowid, so verification scans in key order) and BIGINT elsewhere.

Revision ID: 0002_audit_log
Revises: 0001_foundation
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from decision_aid.audit.immutability import (
    install_append_only_triggers,
    remove_append_only_triggers,
)

revision = "0002_audit_log"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_audit_event_decision_ref_seq": ["decision_ref", "seq"],
    "ix_audit_event_case_ref_seq": ["case_ref", "seq"],
    "ix_audit_event_actor_id_seq": ["actor_id", "seq"],
    "ix_audit_event_event_type_seq": ["event_type", "seq"],
    "ix_audit_event_occurred_at": ["occurred_at"],
}


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("case_ref", sa.String(length=64), nullable=True),
        sa.Column("decision_ref", sa.String(length=64), nullable=True),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_audit_event_seq_positive")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_event")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_audit_event_prev_hash")),
        sa.UniqueConstraint("entry_hash", name=op.f("uq_audit_event_entry_hash")),
    )
    for name, columns in INDEXES.items():
        op.create_index(name, "audit_event", columns, unique=False)
    install_append_only_triggers(op, "audit_event")


def downgrade() -> None:
    remove_append_only_triggers(op, "audit_event")
    for name in INDEXES:
        op.drop_index(name, table_name="audit_event")
    op.drop_table("audit_event")
