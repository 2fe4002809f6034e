"""Operations: per-case data keys (mutable), complaints and rule-set sign-offs (insert-only).

`CaseKey` is deliberately the one mutable thing disposal changes: destroying a case's wrapped
key (crypto-shredding) removes its content from the database and from every backup, while the
insert-only tables and the audit chain stay untouched (docs/operations.md).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, LargeBinary, String, Text, Uuid, event, text
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from decision_aid.models.base import Base, UTCDateTime, new_uuid

COMPLAINT_SUMMARY_MAX = 1000


class CaseKey(Base):
    """A case's data key, wrapped by the key-encryption key; NULL once destroyed at disposal.

    At most one live key per case reference (partial unique index); after disposal a later
    decision about the same case gets a new key, so old and new content never share one.
    """

    __tablename__ = "case_key"
    __table_args__ = (
        Index("uq_case_key_live_case_ref", "case_ref", unique=True,
              sqlite_where=text("destroyed_at IS NULL"),
              postgresql_where=text("destroyed_at IS NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    case_ref: Mapped[str] = mapped_column(String(64), index=True)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    kek_id: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    destroyed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    destroyed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    destroy_rule: Mapped[str | None] = mapped_column(String(80), nullable=True)


class Complaint(Base):
    """A complaint about a decision's processing (DPA 2018 s164A). Never updated.

    The summary is encrypted under the case's data key, so disposal removes it with the case.
    """

    __tablename__ = "complaint"
    __table_args__ = (Index("ix_complaint_decision_received", "decision_id", "received_on"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    decision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("decision.id"))
    case_ref: Mapped[str] = mapped_column(String(64), index=True)
    received_on: Mapped[dt.date] = mapped_column(Date)
    acknowledgement_due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    summary_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    logged_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class RuleSetSignOff(Base):
    """The DPO's approval of one rule-set version and digest. Never updated."""

    __tablename__ = "ruleset_sign_off"
    __table_args__ = (Index("ix_ruleset_sign_off_version", "ruleset_version", "ruleset_digest"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    ruleset_version: Mapped[str] = mapped_column(String(40))
    ruleset_digest: Mapped[str] = mapped_column(String(100))
    signed_off_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    signed_off_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    notes: Mapped[str] = mapped_column(Text, default="")


class OperationsImmutableError(RuntimeError):
    """Raised when code tries to change a complaint or a sign-off through the ORM."""


_INSERT_ONLY = (Complaint, RuleSetSignOff)


@event.listens_for(Session, "before_flush")
def _refuse_changes(session: Session, flush_context: Any, instances: Any) -> None:
    """Application-level guard in front of the database triggers."""
    for obj in session.deleted:
        if isinstance(obj, _INSERT_ONLY):
            raise OperationsImmutableError(f"{type(obj).__name__} rows cannot be deleted")
    for obj in session.dirty:
        if isinstance(obj, _INSERT_ONLY) and session.is_modified(obj, include_collections=False):
            raise OperationsImmutableError(f"{type(obj).__name__} rows cannot be changed")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state: ORMExecuteState) -> None:
    """Bulk update/delete statements bypass flush: refuse them too."""
    if (state.is_update or state.is_delete) and any(
            mapper.class_ in _INSERT_ONLY for mapper in state.all_mappers):
        raise OperationsImmutableError("complaints and sign-offs cannot be changed or deleted")
