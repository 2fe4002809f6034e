"""Drafts (mutable, short-lived) and decisions (insert-only, kept for the retention period).

A draft holds a practitioner's answers between wizard pages, on the server, never in the cookie.
Submitting turns it into a Decision in one transaction and deletes it. Decisions are never
updated: reconsiderations and emergency completions are new rows pointing at the old one, and
a decision's current state (for example "emergency record still to complete") is derived.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from decision_aid.crypto import SEALED_MARKER, SealedContent, sealed_field
from decision_aid.models.base import Base, ImmutableRowError, UTCDateTime, insert_only, new_uuid

OUTCOMES: tuple[str, ...] = ("share_all", "share_part", "do_not_share", "wait_for_advice")
EMERGENCY_OUTCOME = "share_now"
SHARED_OUTCOMES: frozenset[str] = frozenset({"share_all", "share_part", EMERGENCY_OUTCOME})
# Review-queue filter columns, each with a (column, submitted_at, id) index and a team-scoped one.
QUEUE_FILTER_COLUMNS: dict[str, str] = {
    "recommendation": "recommendation",
    "outcome": "outcome",
    "departed": "departed_from_recommendation",
    "basis": "primary_lawful_basis",
    "shared": "shared",
}


class Draft(SealedContent, Base):
    """A decision in progress: answers as given to the engine, plus the decision page's inputs.

    `answers` and `sharing` are encrypted under the case key (decision_aid.crypto): the JSON
    columns of those names hold only a marker since migration 0006.
    """

    __tablename__ = "draft"
    __sealed_fields__ = ("answers", "sharing")

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    practitioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), index=True)
    case_ref: Mapped[str] = mapped_column(String(64))
    as_at: Mapped[dt.date] = mapped_column(Date)
    answers_stored: Mapped[dict[str, Any]] = mapped_column("answers", JSON, default=lambda: dict(SEALED_MARKER))
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    reconsiders_decision_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("decision.id"), nullable=True)
    completes_decision_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("decision.id"), nullable=True)
    sharing_stored: Mapped[dict[str, Any]] = mapped_column("sharing", JSON, default=lambda: dict(SEALED_MARKER))
    content_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)

    answers = sealed_field("answers")
    sharing = sealed_field("sharing")


@insert_only("record a new decision that points at this one")
class Decision(SealedContent, Base):
    """A submitted decision with everything needed to explain it later; never updated.

    `answers`, `result` and `sharing` are encrypted under the case key (decision_aid.crypto) in
    `content_ciphertext`; they read as {"disposed": True} once the case has been disposed of.
    `facts` and the filter columns stay in clear: they hold enumerated values only, no free text.
    """

    __tablename__ = "decision"
    __sealed_fields__ = ("answers", "result", "sharing")
    __sealed_insert_only__ = True
    # The review queue's indexes (migrations 0005 and 0008, docs/review.md): every filter is one
    # ordered range scan ending in (submitted_at, id), once scoped by team and once unscoped.
    # No column has an index of its own that one of these starts with: PostgreSQL's planner
    # chose such prefixes and then sorted (migration 0008 says why).
    __table_args__ = (
        Index("ix_decision_queue_all", "submitted_at", "id"),
        Index("ix_decision_queue_team", "team_id", "submitted_at", "id"),
        Index("ix_decision_queue_practitioner", "practitioner_id", "submitted_at", "id"),
        Index("ix_decision_queue_team_practitioner", "team_id", "practitioner_id", "submitted_at", "id"),
        *(Index(f"ix_decision_queue_{short}", column, "submitted_at", "id")
          for short, column in QUEUE_FILTER_COLUMNS.items()),
        *(Index(f"ix_decision_queue_team_{short}", "team_id", column, "submitted_at", "id")
          for short, column in QUEUE_FILTER_COLUMNS.items()),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    case_ref: Mapped[str] = mapped_column(String(64), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    practitioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"), nullable=True)
    as_at: Mapped[dt.date] = mapped_column(Date)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    emergency_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    completes_decision_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("decision.id"), nullable=True, index=True)
    reconsiders_decision_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("decision.id"), nullable=True, index=True)
    answers_stored: Mapped[dict[str, Any]] = mapped_column("answers", JSON, default=lambda: dict(SEALED_MARKER))
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    result_stored: Mapped[dict[str, Any]] = mapped_column("result", JSON, default=lambda: dict(SEALED_MARKER))
    ruleset_version: Mapped[str] = mapped_column(String(40))
    ruleset_digest: Mapped[str] = mapped_column(String(100))
    recommendation: Mapped[str] = mapped_column(String(40))
    primary_lawful_basis: Mapped[str | None] = mapped_column(String(60), nullable=True)
    outcome: Mapped[str] = mapped_column(String(20))
    departed_from_recommendation: Mapped[bool] = mapped_column(Boolean)
    shared: Mapped[bool] = mapped_column(Boolean)
    consent_position: Mapped[str | None] = mapped_column(String(40), nullable=True)
    sharing_stored: Mapped[dict[str, Any]] = mapped_column("sharing", JSON, default=lambda: dict(SEALED_MARKER))
    content_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # The draft it came from: unique, so a repeated or concurrent submit can never store two.
    draft_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, unique=True)

    answers = sealed_field("answers")
    result = sealed_field("result")
    sharing = sealed_field("sharing")

    def __repr__(self) -> str:
        return f"<Decision {self.reference} {self.outcome}>"


class DecisionReferenceCounter(Base):
    """Last reference number used per year: one atomic upsert gives the next, on both databases."""

    __tablename__ = "decision_reference_counter"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer)


DecisionImmutableError = ImmutableRowError  # one guard for every insert-only model (models/base.py)
