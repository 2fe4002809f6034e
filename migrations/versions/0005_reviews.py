"""Reviews (insert-only), review selections (insert-only), review state, and queue indexes.

Every review-queue filter is a keyset-paginated list ordered by (submitted_at, id). Each filter
gets a composite index (scope column, filter column, submitted_at, id) so that page 1 and page
400 are the same index range scan on a million decisions, on SQLite and PostgreSQL alike:
one set scoped by team (supervisors) and one unscoped (the DPO sees every decision).

Revision ID: 0005_reviews
Revises: 0004_decisions
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from decision_aid.audit.immutability import (
    install_append_only_triggers,
    remove_append_only_triggers,
)

revision = "0005_reviews"
down_revision = "0004_decisions"
branch_labels = None
depends_on = None

FILTER_COLUMNS = {
    "recommendation": "recommendation",
    "outcome": "outcome",
    "departed": "departed_from_recommendation",
    "basis": "primary_lawful_basis",
    "shared": "shared",
}

DECISION_INDEXES: dict[str, list[str]] = {
    "ix_decision_queue_all": ["submitted_at", "id"],
    "ix_decision_queue_team": ["team_id", "submitted_at", "id"],
    "ix_decision_queue_practitioner": ["practitioner_id", "submitted_at", "id"],
    **{f"ix_decision_queue_{short}": [col, "submitted_at", "id"] for short, col in FILTER_COLUMNS.items()},
    **{f"ix_decision_queue_team_{short}": ["team_id", col, "submitted_at", "id"]
       for short, col in FILTER_COLUMNS.items()},
}

STATE_INDEXES: dict[str, list[str]] = {
    "ix_review_state_team_status": ["team_id", "review_status", "submitted_at", "decision_id"],
    "ix_review_state_status": ["review_status", "submitted_at", "decision_id"],
    "ix_review_state_team_emergency": ["team_id", "emergency_open", "submitted_at", "decision_id"],
    "ix_review_state_emergency": ["emergency_open", "submitted_at", "decision_id"],
}


def _fk(column: str, table: str, owner: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{table}.id"], name=f"fk_{owner}_{column}_{table}")


def _review_tables() -> None:
    op.create_table(
        "review",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("decision_id", sa.Uuid(), nullable=False),
        sa.Column("reviewer_id", sa.Uuid(), nullable=False),
        sa.Column("verdict", sa.String(length=30), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("decision_id", "decision", "review"),
        _fk("reviewer_id", "app_user", "review"),
        sa.PrimaryKeyConstraint("id", name="pk_review"),
    )
    op.create_index("ix_review_decision_created", "review", ["decision_id", "created_at"])
    op.create_index("ix_review_reviewer_id", "review", ["reviewer_id"])
    op.create_table(
        "review_selection",
        sa.Column("decision_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=60), nullable=False),
        sa.Column("selected_at", sa.DateTime(timezone=True), nullable=False),
        _fk("decision_id", "decision", "review_selection"),
        sa.PrimaryKeyConstraint("decision_id", name="pk_review_selection"),
    )


def _state_table() -> None:
    op.create_table(
        "review_state",
        sa.Column("decision_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("practitioner_id", sa.Uuid(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("review_status", sa.String(length=20), nullable=True),
        sa.Column("latest_verdict", sa.String(length=30), nullable=True),
        sa.Column("emergency_open", sa.Boolean(), nullable=False),
        sa.Column("emergency_due_at", sa.DateTime(timezone=True), nullable=True),
        _fk("decision_id", "decision", "review_state"),
        _fk("team_id", "team", "review_state"),
        sa.PrimaryKeyConstraint("decision_id", name="pk_review_state"),
    )
    for name, columns in STATE_INDEXES.items():
        op.create_index(name, "review_state", columns)


def upgrade() -> None:
    _review_tables()
    _state_table()
    for name, columns in DECISION_INDEXES.items():
        op.create_index(name, "decision", columns)
    install_append_only_triggers(op, "review")
    install_append_only_triggers(op, "review_selection")


def downgrade() -> None:
    remove_append_only_triggers(op, "review_selection")
    remove_append_only_triggers(op, "review")
    for name in DECISION_INDEXES:
        op.drop_index(name, table_name="decision")
    for name in STATE_INDEXES:
        op.drop_index(name, table_name="review_state")
    op.drop_table("review_state")
    op.drop_table("review_selection")
    op.drop_index("ix_review_reviewer_id", table_name="review")
    op.drop_index("ix_review_decision_created", table_name="review")
    op.drop_table("review")
