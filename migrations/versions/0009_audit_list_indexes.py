"""Audit log search: (actor_id, event_type, seq) for "what did this person do of this kind", and
occurred_at extended to (occurred_at, seq) for the date range's seeks.

The DPO's audit log search (decision_aid/dpo/audit_log.py, quality target T26) pages every filter
newest first by seq through an index ending in seq. One filter alone is served by the indexes of
0002 ((actor_id, seq), (case_ref, seq), (event_type, seq)). Staff member and event together is
the common investigation ("every record this person viewed") and neither index serves it: both
databases walk one of them and test the other column row by row, reading every event of that
person (or of that type) between two matches. On 100,000 synthetic events where a person's
events of one type are 1 in 280, that was 6.6 ms a page on SQLite, and it grows with the table.
With this index the pair is one range scan in seq order, stopping after 51 rows.

The date range is turned into a seq range by two seeks: the first entry in (occurred_at, seq)
order on or after the start, the last before the end. On the single-column occurred_at index
PostgreSQL needs an Incremental Sort to break ties by seq (cheap, but the plan reads as a sort
of the whole range); on (occurred_at, seq) each seek is one Index Only Scan. It replaces the
occurred_at index of 0002, a prefix of it (the exports' date range is served as before). On
SQLite the two are the same entries, since every index there already ends in the rowid (seq).

A case's events are few (tens to hundreds), so case and another filter needs no index of its own;
the date range is a seq range once turned into one (see audit_log.py), so it needs none either.
Creating an index is allowed on audit_event: its triggers refuse only UPDATE, DELETE and TRUNCATE.

Revision ID: 0009_audit_list_indexes
Revises: 0008_review_indexes
Create Date: 2026-11-30
"""

from alembic import op

revision = "0009_audit_list_indexes"
down_revision = "0008_review_indexes"
branch_labels = None
depends_on = None

ADDED: dict[str, list[str]] = {
    "ix_audit_event_actor_id_event_type_seq": ["actor_id", "event_type", "seq"],
    "ix_audit_event_occurred_at_seq": ["occurred_at", "seq"],
}
# name -> columns: a leading prefix of an index added above.
REPLACED: dict[str, list[str]] = {
    "ix_audit_event_occurred_at": ["occurred_at"],
}


def upgrade() -> None:
    for name, columns in ADDED.items():
        op.create_index(name, "audit_event", columns)
    for name in REPLACED:
        op.drop_index(name, table_name="audit_event")


def downgrade() -> None:
    for name, columns in REPLACED.items():
        op.create_index(name, "audit_event", columns)
    for name in ADDED:
        op.drop_index(name, table_name="audit_event")
