"""Complaints about a decision's processing, with the 30-day acknowledgement deadline.

Data Protection Act 2018 s164A (inserted by the Data (Use and Access) Act 2025 s103 and Sch 10;
in force 2026-06-19 by SI 2026/82 reg 3 — legal-reference.md row D7, tagged [V]): a controller
must acknowledge a complaint within 30 days of receiving it. For complaints received before
commencement no statutory deadline is shown. The date is a setting
(DECISION_AID_COMPLAINTS_S164A_FROM) so it can follow the law without a release.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select

from decision_aid import clock, crypto
from decision_aid.audit import record_event
from decision_aid.database import write_transaction
from decision_aid.extensions import db
from decision_aid.models import User
from decision_aid.models.decision import Decision
from decision_aid.models.operations import COMPLAINT_SUMMARY_MAX, Complaint
from decision_aid.operations import events

# From legal-reference.md D7: DPA 2018 s164A commences 2026-06-19 (SI 2026/82 reg 3).
S164A_DEFAULT_FROM = dt.date(2026, 6, 19)
ACKNOWLEDGE_WITHIN = dt.timedelta(days=30)


def s164a_from() -> dt.date:
    """The commencement date in force for this deployment (setting COMPLAINTS_S164A_FROM)."""
    value = current_app.config.get("COMPLAINTS_S164A_FROM") or S164A_DEFAULT_FROM
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def acknowledgement_due(received_on: dt.date) -> dt.date | None:
    """Received date + 30 days when s164A applies to the complaint, else None."""
    if received_on < s164a_from():
        return None
    return received_on + ACKNOWLEDGE_WITHIN


@dataclass(frozen=True)
class ComplaintView:
    """A complaint with its summary decrypted (or marked disposed)."""

    id: uuid.UUID
    decision_id: uuid.UUID
    received_on: dt.date
    acknowledgement_due: dt.date | None
    summary: str
    logged_by: uuid.UUID
    created_at: dt.datetime
    disposed: bool = False

    def overdue(self, today: dt.date) -> bool:
        """True when the acknowledgement deadline has passed."""
        return self.acknowledgement_due is not None and self.acknowledgement_due < today


def log_complaint(user: User, decision: Decision, received_on: dt.date, summary: str) -> Complaint:
    """Store a complaint (summary encrypted under the case key) and its audit event."""
    complaint_id = uuid.uuid4()
    with write_transaction():
        sealed = crypto.encrypt_json(summary.strip()[:COMPLAINT_SUMMARY_MAX], case_ref=decision.case_ref,
                                     table="complaint", column="summary_ciphertext",
                                     row_id=complaint_id)
        row = Complaint(id=complaint_id, decision_id=decision.id, case_ref=decision.case_ref,
                        received_on=received_on, acknowledgement_due=acknowledgement_due(received_on),
                        summary_ciphertext=sealed, logged_by=user.id, created_at=clock.now())
        db.session.add(row)
        db.session.flush()
        record_event(events.COMPLAINT_LOGGED, actor=user, case_ref=decision.case_ref,
                     decision_ref=decision.reference, data={
                         "complaint_id": str(complaint_id), "received_on": received_on.isoformat(),
                         "acknowledgement_due": (row.acknowledgement_due.isoformat()
                                                 if row.acknowledgement_due else None)})
    return row


def _view(row: Complaint) -> ComplaintView:
    summary: Any = crypto.decrypt_or_tombstone(row.summary_ciphertext, table="complaint",
                                               column="summary_ciphertext", row_id=row.id)
    disposed = crypto.is_tombstone(summary)
    text = crypto.DISPOSED_TEXT if disposed else str(summary)
    return ComplaintView(row.id, row.decision_id, row.received_on, row.acknowledgement_due, text,
                         row.logged_by, row.created_at, disposed)


def complaints_for(decision_ids: list[uuid.UUID]) -> list[ComplaintView]:
    """Complaints against these decisions, oldest first."""
    if not decision_ids:
        return []
    rows = db.session.scalars(select(Complaint).where(Complaint.decision_id.in_(decision_ids))
                              .order_by(Complaint.received_on, Complaint.created_at))
    return [_view(row) for row in rows]
