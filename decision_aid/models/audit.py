"""The append-only, hash-chained audit log (see docs/audit-log.md and decision_aid.audit).

Every column is also inside `payload`, the stored canonical JSON bytes, and the chain hashes those
bytes, so a change to any column is detectable: the verifier checks the columns against the bytes.
Rows are never updated or deleted: database triggers and an ORM guard refuse it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, LargeBinary, String, event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from decision_aid.models.base import Base, UTCDateTime

# On SQLite an INTEGER PRIMARY KEY is the rowid: ordered scans by seq need no separate index.
SeqType = BigInteger().with_variant(Integer(), "sqlite")


class AuditEvent(Base):
    """One chain entry. `seq` is gapless: set under the append lock, never autoincrement."""

    __tablename__ = "audit_event"
    __table_args__ = (
        CheckConstraint("seq >= 1", name="seq_positive"),
        Index("ix_audit_event_decision_ref_seq", "decision_ref", "seq"),
        Index("ix_audit_event_case_ref_seq", "case_ref", "seq"),
        Index("ix_audit_event_actor_id_seq", "actor_id", "seq"),
        Index("ix_audit_event_event_type_seq", "event_type", "seq"),
        Index("ix_audit_event_occurred_at", "occurred_at"),
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


class AuditLogImmutableError(RuntimeError):
    """Raised when code tries to update or delete an audit event through the ORM."""


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, flush_context: Any, instances: Any) -> None:
    """Application-level guard, in front of the database triggers: audit rows never change."""
    for obj in session.deleted:
        if isinstance(obj, AuditEvent):
            raise AuditLogImmutableError("audit events cannot be deleted")
    for obj in session.dirty:
        if isinstance(obj, AuditEvent) and session.is_modified(obj, include_collections=False):
            raise AuditLogImmutableError("audit events cannot be changed")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_audit_changes(state: ORMExecuteState) -> None:
    """Bulk `update(AuditEvent)` / `delete(AuditEvent)` statements bypass flush: refuse them too."""
    if not (state.is_update or state.is_delete):
        return
    if any(mapper.class_ is AuditEvent for mapper in state.all_mappers):
        raise AuditLogImmutableError("audit events cannot be changed or deleted")
