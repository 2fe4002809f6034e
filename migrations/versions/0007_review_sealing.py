"""Review reasons sealed under the case key, so disposal destroys them with the decision.

Adds `review.case_ref` (which case key seals the row) and `review.content_ciphertext` (the
AES-GCM blob of decision_aid.crypto; associated data "review:content_ciphertext:<review id>").
The old `reasons` column stays, NOT NULL, holding "" once a row is sealed.

Existing rows: `case_ref` is copied from the decision and clear reasons are sealed in place,
except for reviews of decisions whose case was disposed of before this revision: their reasons
are blanked (disposal should have destroyed them; sealing them would mint a new case key).
`review` is append-only (triggers from 0005), so the data step drops those triggers, updates,
and puts them back in the same transaction (PostgreSQL DDL is transactional; on SQLite Alembic
runs the migration in one transaction too). Columns are added with plain ADD COLUMN, so no
table rebuild, and `case_ref` stays nullable in the schema because SQLite cannot add a NOT NULL
column without a default; the application always sets it.

The overwritten clear values can linger in free pages until they are reused: SQLite runs with
secure_delete=ON (zeroed at once; run `PRAGMA wal_checkpoint(TRUNCATE)` after the upgrade), and on
PostgreSQL run `VACUUM FULL review` as the owner afterwards (docs/operations.md).

Downgrade decrypts sealed reasons back into the clear column where the case key still exists
(reviews of disposed cases keep "" there: their content is gone for good).

Revision ID: 0007_review_sealing
Revises: 0006_operations
Create Date: 2026-12-03
"""

import uuid
from typing import Any

import sqlalchemy as sa
from alembic import op

from decision_aid.audit.immutability import (
    install_append_only_triggers,
    remove_append_only_triggers,
)

revision = "0007_review_sealing"
down_revision = "0006_operations"
branch_labels = None
depends_on = None

TABLE = "review"
COLUMN = "content_ciphertext"


def _review_table() -> sa.Table:
    """A lightweight table for the data step (the models may have moved on since this revision)."""
    return sa.table(
        TABLE,
        sa.column("id", sa.Uuid()),
        sa.column("decision_id", sa.Uuid()),
        sa.column("reasons", sa.Text()),
        sa.column("case_ref", sa.String(64)),
        sa.column(COLUMN, sa.LargeBinary()),
    )


def _decision_disposed(conn: sa.engine.Connection, decision_blob: bytes | None) -> bool:
    """True when the decision's own content key was destroyed (its case disposed of before 0007).

    Sealing such a review under the case's *current* key would create a new live key and keep
    reasons that disposal was meant to remove, so those reasons are blanked instead.
    """
    from decision_aid import crypto

    if decision_blob is None:
        return False
    case_key = sa.table("case_key", sa.column("id", sa.Uuid()),
                        sa.column("destroyed_at", sa.DateTime(timezone=True)))
    key_id = crypto.blob_key_id(bytes(decision_blob))
    destroyed = conn.execute(sa.select(case_key.c.destroyed_at)
                             .where(case_key.c.id == key_id)).first()
    return destroyed is None or destroyed[0] is not None


def _seal_existing(conn: sa.engine.Connection) -> None:
    """Copy case_ref from the decision and seal every clear reasons value (triggers dropped)."""
    from decision_aid import crypto

    review = _review_table()
    decision = sa.table("decision", sa.column("id", sa.Uuid()),
                        sa.column("case_ref", sa.String(64)),
                        sa.column(COLUMN, sa.LargeBinary()))
    case_of = (sa.select(decision.c.case_ref)
               .where(decision.c.id == review.c.decision_id).scalar_subquery())
    conn.execute(sa.update(review).where(review.c.case_ref.is_(None)).values(case_ref=case_of))
    rows = conn.execute(
        sa.select(review.c.id, review.c.case_ref, review.c.reasons,
                  decision.c[COLUMN].label("decision_blob"))
        .join(decision, decision.c.id == review.c.decision_id)
        .where(review.c[COLUMN].is_(None))).all()
    for row in rows:
        values: dict[str, Any] = {"reasons": ""}
        if not _decision_disposed(conn, row.decision_blob):
            values[COLUMN] = crypto.encrypt_json(
                {"reasons": row.reasons or ""}, case_ref=row.case_ref, table=TABLE,
                column=COLUMN, row_id=uuid.UUID(str(row.id)), conn=conn)
        conn.execute(sa.update(review).where(review.c.id == row.id).values(**values))


def _unseal(conn: sa.engine.Connection) -> None:
    """Downgrade: put readable reasons back in the clear column."""
    from decision_aid import crypto

    review = _review_table()
    rows = conn.execute(sa.select(review.c.id, review.c[COLUMN])
                        .where(review.c[COLUMN].is_not(None))).all()
    for row in rows:
        try:
            plain: Any = crypto.decrypt_json(bytes(row[1]), table=TABLE, column=COLUMN,
                                             row_id=uuid.UUID(str(row.id)), conn=conn)
        except crypto.KeyDestroyed:
            plain = None
        reasons = plain.get("reasons") if isinstance(plain, dict) else None
        value = reasons if isinstance(reasons, str) else ""
        conn.execute(sa.update(review).where(review.c.id == row.id).values(reasons=value))


def _has_reviews(conn: sa.engine.Connection) -> bool:
    return conn.execute(sa.text("SELECT 1 FROM review LIMIT 1")).first() is not None


def upgrade() -> None:
    op.add_column(TABLE, sa.Column("case_ref", sa.String(length=64), nullable=True))
    op.add_column(TABLE, sa.Column(COLUMN, sa.LargeBinary(), nullable=True))
    conn = op.get_bind()
    if _has_reviews(conn):
        remove_append_only_triggers(op, TABLE)
        _seal_existing(conn)
        install_append_only_triggers(op, TABLE)


def downgrade() -> None:
    conn = op.get_bind()
    if _has_reviews(conn):
        remove_append_only_triggers(op, TABLE)
        _unseal(conn)
        install_append_only_triggers(op, TABLE)
    op.drop_column(TABLE, COLUMN)  # plain DROP COLUMN (SQLite >= 3.35)
    op.drop_column(TABLE, "case_ref")

