"""Review-queue indexes: drop the decision indexes that a queue index already starts with.

Every queue filter pages by (submitted_at, id) through a composite index of migration 0005 that
ends with those two columns. The single-column (and two-column) indexes of 0004 are each a
leading prefix of one of those composites, so they serve no query the composite does not, but
they let PostgreSQL's planner pick the wrong path on a million decisions: `submitted_at` alone
is perfectly correlated with the table's physical order, so the planner preferred walking it with
the filter as a row-by-row check plus an Incremental Sort on id, and it combined `team_id` and
`practitioner_id` with a BitmapAnd followed by a full sort of the matches. Without them every
filter is one ordered index range scan on both databases (docs/review.md, "Benchmark").

Adds (team_id, practitioner_id, submitted_at, id) for the supervisor's practitioner filter, which
otherwise had to walk one practitioner's decisions across every team, or BitmapAnd and sort.

Kept: case_ref, completes/reconsiders (records, retention and subject access look them up), and
the unique reference and draft_id constraints.

Revision ID: 0008_review_indexes
Revises: 0007_review_sealing
Create Date: 2026-11-30
"""

from alembic import op

revision = "0008_review_indexes"
down_revision = "0007_review_sealing"
branch_labels = None
depends_on = None

# name -> columns, and the composite (0005 or below) that starts with the same columns.
REDUNDANT: dict[str, tuple[list[str], str]] = {
    "ix_decision_submitted_at": (["submitted_at"], "ix_decision_queue_all"),
    "ix_decision_team_id": (["team_id"], "ix_decision_queue_team"),
    "ix_decision_practitioner_id": (["practitioner_id"], "ix_decision_queue_practitioner"),
    "ix_decision_practitioner_submitted": (["practitioner_id", "submitted_at"],
                                           "ix_decision_queue_practitioner"),
    "ix_decision_recommendation": (["recommendation"], "ix_decision_queue_recommendation"),
    "ix_decision_primary_lawful_basis": (["primary_lawful_basis"], "ix_decision_queue_basis"),
    "ix_decision_departed_from_recommendation": (["departed_from_recommendation"],
                                                 "ix_decision_queue_departed"),
    "ix_decision_shared": (["shared"], "ix_decision_queue_shared"),
}

ADDED: dict[str, list[str]] = {
    "ix_decision_queue_team_practitioner": ["team_id", "practitioner_id", "submitted_at", "id"],
}


def upgrade() -> None:
    for name, columns in ADDED.items():
        op.create_index(name, "decision", columns)
    for name in REDUNDANT:
        op.drop_index(name, table_name="decision")


def downgrade() -> None:
    for name, (columns, _) in REDUNDANT.items():
        op.create_index(name, "decision", columns)
    for name in ADDED:
        op.drop_index(name, table_name="decision")
