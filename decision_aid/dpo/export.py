"""Bulk exports of decisions and audit events, as CSV or JSON, streamed in keyset batches.

Rows are read in batches of BATCH by keyset ((submitted_at, id) for decisions, seq for audit
events), so an export of a million rows never holds them all in memory and never uses OFFSET.
Exports carry ids and codes, not free text: no practitioner names, no sharing notes. A CSV cell
that a spreadsheet could run as a formula is prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import literal, select, tuple_

from decision_aid import audit
from decision_aid.extensions import db
from decision_aid.models.audit import AuditEvent
from decision_aid.models.decision import Decision
from decision_aid.models.review import ReviewState

BATCH = 1000
DECISION_FIELDS = (
    "reference", "id", "case_ref", "submitted_at", "as_at", "practitioner_id", "team_id",
    "emergency", "emergency_due_at", "completes_decision_id", "recommendation",
    "primary_lawful_basis", "lawful_bases", "outcome", "shared", "departed_from_recommendation",
    "consent_position", "ruleset_version", "ruleset_digest", "review_status", "latest_verdict",
)
AUDIT_FIELDS = ("seq", "occurred_at", "event_type", "actor_id", "actor_role", "case_ref",
                "decision_ref", "data", "prev_hash", "entry_hash")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Range:
    """Whole UTC days, inclusive; None means unbounded."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def clauses(self, column: Any) -> list[Any]:
        """WHERE clauses limiting a timestamp column to the range."""
        found = []
        if self.date_from:
            found.append(column >= dt.datetime.combine(self.date_from, dt.time(), dt.UTC))
        if self.date_to:
            found.append(column < dt.datetime.combine(self.date_to + dt.timedelta(days=1), dt.time(), dt.UTC))
        return found

    def as_data(self) -> dict[str, str | None]:
        """For the audit event."""
        return {"from": self.date_from.isoformat() if self.date_from else None,
                "to": self.date_to.isoformat() if self.date_to else None}


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if value is not None and not isinstance(value, bool | int | float | str | list | dict):
        return str(value)  # UUIDs
    return value


def decision_row(decision: Decision, state: ReviewState | None) -> dict[str, Any]:
    """One decision as a flat dict of plain values."""
    row = {name: _plain(getattr(decision, name)) for name in DECISION_FIELDS
           if name not in ("lawful_bases", "review_status", "latest_verdict")}
    row["lawful_bases"] = list((decision.result or {}).get("lawful_bases") or [])
    row["review_status"] = state.review_status if state else None
    row["latest_verdict"] = state.latest_verdict if state else None
    return row


def decision_rows(period: Range) -> Iterator[dict[str, Any]]:
    """Every decision in the period, oldest first, in keyset batches."""
    after: tuple[dt.datetime, Any] | None = None
    while True:
        stmt = (select(Decision, ReviewState).outerjoin(ReviewState, ReviewState.decision_id == Decision.id)
                .where(*period.clauses(Decision.submitted_at)))
        if after is not None:  # literal(): the bind parameters tuple_ makes of plain values anyway
            stmt = stmt.where(tuple_(Decision.submitted_at, Decision.id) > tuple_(*map(literal, after)))
        batch = db.session.execute(stmt.order_by(Decision.submitted_at, Decision.id).limit(BATCH)).all()
        for decision, state in batch:
            yield decision_row(decision, state)
        if len(batch) < BATCH:
            return
        after = (batch[-1][0].submitted_at, batch[-1][0].id)


def audit_row(event: AuditEvent) -> dict[str, Any]:
    """One audit event: its columns plus the actor's role and the event data from the stored bytes."""
    details = audit.event_details(event)
    actor = details["actor"] or {}
    return {"seq": event.seq, "occurred_at": _plain(event.occurred_at), "event_type": event.event_type,
            "actor_id": event.actor_id, "actor_role": actor.get("role"), "case_ref": event.case_ref,
            "decision_ref": event.decision_ref, "data": details["data"],
            "prev_hash": event.prev_hash, "entry_hash": event.entry_hash}


def audit_rows(period: Range) -> Iterator[dict[str, Any]]:
    """Every audit event in the period, in chain order, in keyset batches by seq."""
    after = 0
    while True:
        stmt = (select(AuditEvent).where(AuditEvent.seq > after, *period.clauses(AuditEvent.occurred_at))
                .order_by(AuditEvent.seq).limit(BATCH))
        batch = db.session.scalars(stmt).all()
        for event in batch:
            yield audit_row(event)
        if len(batch) < BATCH:
            return
        after = batch[-1].seq


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        value = json.dumps(value, sort_keys=True, separators=(",", ":"))
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def as_csv(rows: Iterator[dict[str, Any]], fields: tuple[str, ...]) -> Iterator[str]:
    """CSV text, a header line then one line per row, yielded in chunks of about 64 KiB."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(fields)
    for row in rows:
        writer.writerow([_cell(row.get(name)) for name in fields])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def as_json(rows: Iterator[dict[str, Any]], kind: str) -> Iterator[str]:
    """A JSON object {"kind": ..., "items": [...]} written incrementally."""
    yield json.dumps({"kind": kind})[:-1] + ',"items":['
    for i, row in enumerate(rows):
        yield ("," if i else "") + json.dumps(row, ensure_ascii=False, sort_keys=True)
    yield "]}"
