"""Decisions (insert-only), drafts, and the per-year decision reference counter.

Hand-written: the append-only triggers differ per dialect (decision_aid.audit.immutability).

Revision ID: 0004_decisions
Revises: 0003_mfa
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from decision_aid.audit.immutability import (
    install_append_only_triggers,
    remove_append_only_triggers,
)

revision = "0004_decisions"
down_revision = "0003_mfa"
branch_labels = None
depends_on = None

DECISION_INDEXES = {
    "ix_decision_case_ref": ["case_ref"],
    "ix_decision_practitioner_id": ["practitioner_id"],
    "ix_decision_team_id": ["team_id"],
    "ix_decision_submitted_at": ["submitted_at"],
    "ix_decision_completes_decision_id": ["completes_decision_id"],
    "ix_decision_reconsiders_decision_id": ["reconsiders_decision_id"],
    "ix_decision_recommendation": ["recommendation"],
    "ix_decision_primary_lawful_basis": ["primary_lawful_basis"],
    "ix_decision_departed_from_recommendation": ["departed_from_recommendation"],
    "ix_decision_shared": ["shared"],
    "ix_decision_practitioner_submitted": ["practitioner_id", "submitted_at"],
}


def _fk(column: str, table: str, owner: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{table}.id"], name=f"fk_{owner}_{column}_{table}")


def _decision_table() -> None:
    op.create_table(
        "decision",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("case_ref", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("as_at", sa.Date(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.Column("emergency_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completes_decision_id", sa.Uuid(), nullable=True),
        sa.Column("reconsiders_decision_id", sa.Uuid(), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("ruleset_version", sa.String(length=40), nullable=False),
        sa.Column("ruleset_digest", sa.String(length=100), nullable=False),
        sa.Column("recommendation", sa.String(length=40), nullable=False),
        sa.Column("primary_lawful_basis", sa.String(length=60), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("departed_from_recommendation", sa.Boolean(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("consent_position", sa.String(length=40), nullable=True),
        sa.Column("sharing", sa.JSON(), nullable=False),
        sa.Column("draft_id", sa.Uuid(), nullable=True),
        _fk("organisation_id", "organisation", "decision"),
        _fk("practitioner_id", "app_user", "decision"),
        _fk("team_id", "team", "decision"),
        _fk("completes_decision_id", "decision", "decision"),
        _fk("reconsiders_decision_id", "decision", "decision"),
        sa.PrimaryKeyConstraint("id", name="pk_decision"),
        sa.UniqueConstraint("reference", name="uq_decision_reference"),
        sa.UniqueConstraint("draft_id", name="uq_decision_draft_id"),
    )
    for name, columns in DECISION_INDEXES.items():
        op.create_index(name, "decision", columns, unique=False)


def _draft_table() -> None:
    op.create_table(
        "draft",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("practitioner_id", sa.Uuid(), nullable=False),
        sa.Column("case_ref", sa.String(length=64), nullable=False),
        sa.Column("as_at", sa.Date(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.Column("reconsiders_decision_id", sa.Uuid(), nullable=True),
        sa.Column("completes_decision_id", sa.Uuid(), nullable=True),
        sa.Column("sharing", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _fk("practitioner_id", "app_user", "draft"),
        _fk("reconsiders_decision_id", "decision", "draft"),
        _fk("completes_decision_id", "decision", "draft"),
        sa.PrimaryKeyConstraint("id", name="pk_draft"),
    )
    op.create_index("ix_draft_practitioner_id", "draft", ["practitioner_id"], unique=False)
    op.create_index("ix_draft_updated_at", "draft", ["updated_at"], unique=False)


def upgrade() -> None:
    _decision_table()
    _draft_table()
    op.create_table(
        "decision_reference_counter",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name="pk_decision_reference_counter"),
    )
    install_append_only_triggers(op, "decision")


def downgrade() -> None:
    remove_append_only_triggers(op, "decision")
    op.drop_table("decision_reference_counter")
    op.drop_index("ix_draft_updated_at", table_name="draft")
    op.drop_index("ix_draft_practitioner_id", table_name="draft")
    op.drop_table("draft")
    for name in DECISION_INDEXES:
        op.drop_index(name, table_name="decision")
    op.drop_table("decision")
