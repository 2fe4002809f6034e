"""The append-only, hash-chained audit log (see docs/audit-log.md and decision_aid.audit).

Every column is also inside `payload`, the stored canonical JSON bytes, and the chain hashes those
bytes, so a change to any column is detectable. On PostgreSQL the verifier checks the columns
against the bytes; on SQLite (migration 0010) they are virtual columns computed from the bytes,
created by `decision_aid.audit.schema` rather than from this model, so inserts there name only
`seq`, `payload`, `prev_hash` and `entry_hash` (`schema.stored_values`).
Rows are never updated or deleted: database triggers and an ORM guard refuse it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from decision_aid.models.base import Base, ImmutableRowError, UTCDateTime, insert_only

# On SQLite an INTEGER PRIMARY KEY is the rowid: ordered scans by seq need no separate index.
SeqType = BigInteger().with_variant(Integer(), "sqlite")


@insert_only("audit events are never altered")
class AuditEvent(Base):
    """One chain entry. `seq` is gapless: set under the append lock, never autoincrement."""

    __tablename__ = "audit_event"
    __table_args__ = (
        CheckConstraint("seq >= 1", name="seq_positive"),
        Index("ix_audit_event_decision_ref_seq", "decision_ref", "seq"),
        Index("ix_audit_event_case_ref_seq", "case_ref", "seq"),
        Index("ix_audit_event_actor_id_seq", "actor_id", "seq"),
        Index("ix_audit_event_event_type_seq", "event_type", "seq"),
        # the DPO's audit log search (migration 0009): staff member and event together, and the
        # date range's seeks (replaces 0002's occurred_at index, a prefix of it)
        Index("ix_audit_event_actor_id_event_type_seq", "actor_id", "event_type", "seq"),
        Index("ix_audit_event_occurred_at_seq", "occurred_at", "seq"),
    )

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=False)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    event_type: Mapped[str] = mapped_column(String(64))
    case_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decision_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.seq} {self.event_type} {self.entry_hash[:8]}>"


AuditLogImmutableError = ImmutableRowError  # one guard for every insert-only model (models/base.py)
