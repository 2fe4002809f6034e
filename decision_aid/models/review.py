"""Supervisor review: verdicts (insert-only), sampling selections (insert-only) and a small state table.

`Review` and `ReviewSelection` are facts that never change: a new verdict is a new row, and the
latest one wins. `ReviewState` is the "separate small state table that the audit log records"
(architecture.md): one row per decision holding what the queue filters on and what changes over
time (awaiting review or reviewed, emergency record still to complete). It exists so that every
queue filter is an index range scan on a million decisions: deriving "awaiting review" or
"emergency not yet completed" with NOT EXISTS would scan every reviewed or completed decision
before reaching the oldest one still waiting. Every change to it happens in the same transaction
as the Review row or completing Decision that causes it, and those are audited.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, LargeBinary, String, Text, Uuid, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from decision_aid.crypto import DISPOSED_TEXT, SealedContent, is_tombstone, sealed_field
from decision_aid.models.base import Base, ImmutableRowError, UTCDateTime, insert_only, new_uuid

VERDICTS: tuple[str, ...] = ("agree", "agree_with_conditions", "disagree")
VERDICT_LABELS: dict[str, str] = {
    "agree": "Agree",
    "agree_with_conditions": "Agree with conditions",
    "disagree": "Disagree",
}
MAX_REASONS = 2000
REASONS_DISPOSED = DISPOSED_TEXT
AWAITING = "awaiting"
REVIEWED = "reviewed"


@insert_only("record a new review")
class Review(SealedContent, Base):
    """A supervisor's verdict on a decision. Never updated: a later verdict is a new row.

    `reasons` is free text about the case, so it is sealed under the case's data key like the
    decision's own content (decision_aid.crypto): set `case_ref` to the decision's, and
    disposal destroys the reasons with the decision. It reads as {"disposed": True} afterwards
    (see `reasons_text`). The clear `reasons` column holds "" since migration 0007.
    """

    __tablename__ = "review"
    __table_args__ = (Index("ix_review_decision_created", "decision_id", "created_at"),)
    __sealed_fields__ = ("reasons",)
    __sealed_insert_only__ = True
    __sealed_marker__ = ""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    decision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("decision.id"))
    # Nullable only in the schema (SQLite cannot add a NOT NULL column without a default).
    case_ref: Mapped[str] = mapped_column(String(64), nullable=True)
    reviewer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), index=True)
    verdict: Mapped[str] = mapped_column(String(30))
    reasons_stored: Mapped[str] = mapped_column("reasons", Text, default="")
    content_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    reasons = sealed_field("reasons")

    @property
    def reasons_disposed(self) -> bool:
        """True once the case's key is destroyed: the reasons are gone for good."""
        return is_tombstone(self.reasons)

    @property
    def reasons_text(self) -> str:
        """The reasons for display: "" when none, REASONS_DISPOSED after disposal."""
        value = self.reasons
        if is_tombstone(value):
            return REASONS_DISPOSED
        return value if isinstance(value, str) else ""


@insert_only("a selection for review is permanent")
class ReviewSelection(Base):
    """Why a decision was put in the review queue (sampling rule); written once, never changed."""

    __tablename__ = "review_selection"

    decision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("decision.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(60))
    selected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ReviewState(Base):
    """Current oversight state of one decision, denormalised so the queue filters use indexes.

    `review_status` is None (not selected for review), "awaiting" or "reviewed";
    `emergency_open` is True while an emergency record still has to be completed.
    """

    __tablename__ = "review_state"
    __table_args__ = (
        Index("ix_review_state_team_status", "team_id", "review_status", "submitted_at", "decision_id"),
        Index("ix_review_state_status", "review_status", "submitted_at", "decision_id"),
        Index("ix_review_state_team_emergency", "team_id", "emergency_open", "submitted_at", "decision_id"),
        Index("ix_review_state_emergency", "emergency_open", "submitted_at", "decision_id"),
    )

    decision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("decision.id"), primary_key=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"), nullable=True)
    practitioner_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    review_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    latest_verdict: Mapped[str | None] = mapped_column(String(30), nullable=True)
    emergency_open: Mapped[bool] = mapped_column(Boolean, default=False)
    emergency_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


ReviewImmutableError = ImmutableRowError  # one guard for every insert-only model (models/base.py)


@event.listens_for(Session, "before_flush")
def _track_new_decisions(session: Session, flush_context: Any, instances: Any) -> None:
    """Sample every decision for review in the transaction that inserts it (see docs/review.md)."""
    from decision_aid.models.decision import Decision

    new = [obj for obj in session.new if isinstance(obj, Decision)]
    if new:
        from decision_aid.review.sampling import track_new_decisions

        track_new_decisions(session, new)
