"""Subject access: every decision about a case reference, exported with third parties flagged.

UK GDPR Art 15 (with the "reasonable and proportionate search" of Art 15(1A), DUAA 2025 s78)
needs the log to be searchable per data subject. The tool holds a pseudonymous case reference,
so the DPO maps the requester to case references outside the tool and searches here.

The export decrypts everything and marks each item that names someone other than the data
subject — staff who gave advice, the recipient organisation and role, practitioners and
reviewers — with "redact_review": true. The DPO decides what to redact (DPA 2018 Sch 2 para 16
third-party data); the tool never redacts silently.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select

from decision_aid import clock, crypto
from decision_aid.audit import record_event
from decision_aid.database import write_transaction
from decision_aid.extensions import db
from decision_aid.models import User
from decision_aid.models.decision import Decision
from decision_aid.operations import events
from decision_aid.operations.complaints import complaints_for
from decision_aid.operations.governance import made_under_unapproved_rules

# Sharing fields that identify someone other than the data subject.
THIRD_PARTY_SHARING_FIELDS: tuple[str, ...] = (
    "advice_from", "recipient_org", "recipient_role", "recipient_name", "recipient",
    "recipient_contact", "requested_by", "supervisor",
)
# Free-text fields that may name someone despite the warnings on the form.
FREE_TEXT_FIELDS: tuple[str, ...] = ("what", "reasons", "not_told_reason", "notes")
EXPORT_FORMAT = "decision-aid-subject-access/1"


def normalise_case_ref(value: str) -> str:
    """Case references are matched exactly after trimming and upper-casing (the stored form)."""
    return value.strip().upper()


def decisions_for_case(case_ref: str) -> list[Decision]:
    """Every decision about the case, oldest first (an index range scan on decision.case_ref)."""
    return list(db.session.scalars(select(Decision).where(
        Decision.case_ref == normalise_case_ref(case_ref)).order_by(Decision.submitted_at)))


def _flag(value: Any, why: str) -> dict[str, Any]:
    return {"value": value, "redact_review": True, "why": why}


def flag_sharing(sharing: dict[str, Any]) -> dict[str, Any]:
    """Sharing details with third-party identities and free text wrapped for redaction review."""
    flagged: dict[str, Any] = {}
    for key, value in (sharing or {}).items():
        if key in THIRD_PARTY_SHARING_FIELDS and value:
            flagged[key] = _flag(value, "identifies a third party")
        elif key in FREE_TEXT_FIELDS and value:
            flagged[key] = _flag(value, "free text: check for third-party details")
        else:
            flagged[key] = value
    return flagged


def _user_names(ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    return {u.id: u.display_name for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def _reviews(decision_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
    from decision_aid.models.review import Review

    found: dict[uuid.UUID, list[Any]] = {}
    if decision_ids:
        for review in db.session.scalars(select(Review).where(Review.decision_id.in_(decision_ids))
                                         .order_by(Review.created_at)):
            found.setdefault(review.decision_id, []).append(review)
    return found


def review_reasons(review: Any) -> Any:
    """A reviewer's reasons flagged for redaction review; TOMBSTONE once the case is disposed of."""
    reasons = review.reasons
    if crypto.is_tombstone(reasons):
        return dict(crypto.TOMBSTONE)
    if not reasons:
        return ""
    return _flag(reasons, "free text: check for third-party details")


def decision_export(decision: Decision, names: dict[uuid.UUID, str],
                    reviews: list[Any]) -> dict[str, Any]:
    """One decision, decrypted, with third parties flagged."""
    disposed = (decision.answers or {}).get("disposed") is True
    return {
        "reference": decision.reference,
        "id": str(decision.id),
        "case_ref": decision.case_ref,
        "submitted_at": decision.submitted_at.isoformat(),
        "decision_date": decision.as_at.isoformat(),
        "disposed": disposed,
        "practitioner": _flag(names.get(decision.practitioner_id, ""), "member of staff"),
        "recommendation": decision.recommendation,
        "outcome": decision.outcome,
        "primary_lawful_basis": decision.primary_lawful_basis,
        "departed_from_recommendation": decision.departed_from_recommendation,
        "shared": decision.shared,
        "emergency": decision.emergency,
        "ruleset_version": decision.ruleset_version,
        "made_under_unapproved_rules": made_under_unapproved_rules(decision),
        "answers": decision.answers,
        "facts": decision.facts,
        "result": decision.result,
        "sharing": decision.sharing if disposed else flag_sharing(decision.sharing or {}),
        "reviews": [{
            "verdict": review.verdict,
            "reviewer": _flag(names.get(review.reviewer_id, ""), "member of staff"),
            "reasons": review_reasons(review),
            "created_at": review.created_at.isoformat(),
        } for review in reviews],
    }


def build_export(case_ref: str) -> dict[str, Any]:
    """The whole subject access export for one case reference (JSON-ready)."""
    decisions = decisions_for_case(case_ref)
    ids = [d.id for d in decisions]
    reviews = _reviews(ids)
    people = {d.practitioner_id for d in decisions} | {
        r.reviewer_id for rs in reviews.values() for r in rs}
    names = _user_names(people)
    complaints = complaints_for(ids)
    by_id = {d.id: d.reference for d in decisions}
    return {
        "format": EXPORT_FORMAT,
        "case_ref": normalise_case_ref(case_ref),
        "generated_at": clock.now().isoformat(),
        "note": ("Items marked redact_review identify, or may identify, someone other than the "
                 "data subject. Review them before disclosure."),
        "decisions": [decision_export(d, names, reviews.get(d.id, [])) for d in decisions],
        "complaints": [{
            "decision": by_id.get(c.decision_id, ""),
            "received_on": c.received_on.isoformat(),
            "acknowledgement_due": c.acknowledgement_due.isoformat() if c.acknowledgement_due else None,
            "summary": dict(crypto.TOMBSTONE) if c.disposed
            else _flag(c.summary, "free text: check for third-party details"),
        } for c in complaints],
    }


def record_export(user: User, case_ref: str, document: str, count: int) -> None:
    """One audit event per export (T36: exports are access events)."""
    with write_transaction():
        record_event(events.SUBJECT_ACCESS_EXPORTED, actor=user, case_ref=normalise_case_ref(case_ref),
                     data={"document": document, "decisions": count,
                           "on": dt.date.isoformat(clock.today())})
