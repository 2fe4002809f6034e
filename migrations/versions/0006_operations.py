"""Operations: per-case data keys, encrypted content columns, complaints, rule-set sign-offs.

`decision.content_ciphertext` and `draft.content_ciphertext` hold the AES-GCM sealed answers,
trace and sharing details (decision_aid.crypto); the old JSON columns then hold only a marker.
Added with plain ADD COLUMN (no table rebuild), so the decision table's append-only triggers stay.
Complaints and sign-offs are append-only; case_key is mutable by design (disposal changes it).

Revision ID: 0006_operations
Revises: 0005_reviews
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from decision_aid.audit.immutability import (
    install_append_only_triggers,
    remove_append_only_triggers,
)

revision = "0006_operations"
down_revision = "0005_reviews"
branch_labels = None
depends_on = None

APPEND_ONLY = ("complaint", "ruleset_sign_off")


def _case_key() -> None:
    op.create_table(
        "case_key",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_ref", sa.String(length=64), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("kek_id", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("destroyed_by", sa.String(length=64), nullable=True),
        sa.Column("destroy_rule", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_case_key"),
    )
    op.create_index("ix_case_key_case_ref", "case_key", ["case_ref"])
    op.create_index("ix_case_key_destroyed_at", "case_key", ["destroyed_at"])
    op.create_index("uq_case_key_live_case_ref", "case_key", ["case_ref"], unique=True,
                    sqlite_where=sa.text("destroyed_at IS NULL"),
                    postgresql_where=sa.text("destroyed_at IS NULL"))


def _complaint() -> None:
    op.create_table(
        "complaint",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("decision_id", sa.Uuid(), nullable=False),
        sa.Column("case_ref", sa.String(length=64), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("acknowledgement_due", sa.Date(), nullable=True),
        sa.Column("summary_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("logged_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["decision_id"], ["decision.id"],
                                name="fk_complaint_decision_id_decision"),
        sa.ForeignKeyConstraint(["logged_by"], ["app_user.id"],
                                name="fk_complaint_logged_by_app_user"),
        sa.PrimaryKeyConstraint("id", name="pk_complaint"),
    )
    op.create_index("ix_complaint_case_ref", "complaint", ["case_ref"])
    op.create_index("ix_complaint_decision_received", "complaint", ["decision_id", "received_on"])


def _sign_off() -> None:
    op.create_table(
        "ruleset_sign_off",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("ruleset_version", sa.String(length=40), nullable=False),
        sa.Column("ruleset_digest", sa.String(length=100), nullable=False),
        sa.Column("signed_off_by", sa.Uuid(), nullable=False),
        sa.Column("signed_off_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["signed_off_by"], ["app_user.id"],
                                name="fk_ruleset_sign_off_signed_off_by_app_user"),
        sa.PrimaryKeyConstraint("id", name="pk_ruleset_sign_off"),
    )
    op.create_index("ix_ruleset_sign_off_version", "ruleset_sign_off",
                    ["ruleset_version", "ruleset_digest"])


def upgrade() -> None:
    _case_key()
    _complaint()
    _sign_off()
    op.add_column("decision", sa.Column("content_ciphertext", sa.LargeBinary(), nullable=True))
    op.add_column("draft", sa.Column("content_ciphertext", sa.LargeBinary(), nullable=True))
    for table in APPEND_ONLY:
        install_append_only_triggers(op, table)


def downgrade() -> None:
    for table in APPEND_ONLY:
        remove_append_only_triggers(op, table)
    op.drop_column("draft", "content_ciphertext")  # plain DROP COLUMN (SQLite >= 3.35)
    op.drop_column("decision", "content_ciphertext")
    op.drop_table("ruleset_sign_off")
    op.drop_table("complaint")
    op.drop_table("case_key")
