"""Record routes: thin views over access checks, audit events, builders and the PDF renderer.

Every GET here adds exactly one access event (views are events, T36): that event is the only
state these routes add. A PDF download may also write a signed audit checkpoint (T19), which
is a system event about the log, not about the record.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from flask import Response, abort, current_app, render_template, request
from flask_login import current_user
from sqlalchemy import func, select

from decision_aid import clock
from decision_aid.audit import access_events, event_details, events, record_event
from decision_aid.auth.access import roles
from decision_aid.database import write_transaction
from decision_aid.extensions import db
from decision_aid.models import Role
from decision_aid.models.audit import AuditEvent
from decision_aid.models.decision import Decision
from decision_aid.records import bp
from decision_aid.records.access import (
    access_reason,
    can_view_access_log,
    get_viewable_decision_or_404,
)
from decision_aid.records.notice import build_notice
from decision_aid.records.pdf import PdfMetadata, render_pdf
from decision_aid.records.service import build_record, pdf_filename

log = logging.getLogger(__name__)

READERS = (Role.PRACTITIONER, Role.SUPERVISOR, Role.DPO)
ACCESS_LABELS: dict[str, str] = {
    events.RECORD_VIEWED: "Viewed",
    events.RECORD_PRINTED: "Opened the print view",
    events.RECORD_PDF_DOWNLOADED: "Downloaded a PDF",
    events.RECORD_EXPORTED: "Exported",
    events.RECORD_ACCESS_DENIED: "Refused access",
}


def _log_access(decision: Decision, event_type: str, document: str) -> None:
    """One access event: actor, record, action (event type), document and reason code."""
    reason = access_reason(current_user, decision) or "none"
    ref, case_ref = decision.reference, decision.case_ref
    with write_transaction():
        record_event(event_type, actor=current_user, case_ref=case_ref, decision_ref=ref,
                     data={"document": document, "reason": reason, "outcome": "allowed"})


def _pdf_rate_limited() -> bool:
    """At most RECORDS_PDF_PER_MINUTE PDFs per user per minute (T25), counted from the audit log."""
    limit = int(current_app.config.get("RECORDS_PDF_PER_MINUTE", 10))
    since = clock.now() - dt.timedelta(minutes=1)
    count = db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(
            AuditEvent.actor_id == str(current_user.id),
            AuditEvent.event_type == events.RECORD_PDF_DOWNLOADED,
            AuditEvent.occurred_at >= since))
    return (count or 0) >= limit


def _checkpoint_after_export() -> None:
    """T19: sign a checkpoint on every PDF export, so the paper copy can be tied to the log."""
    if not current_app.config.get("RECORDS_CHECKPOINT_ON_PDF", True):
        return
    from decision_aid.audit import write_checkpoint

    try:
        write_checkpoint()
    except Exception:  # a missing key must not stop a practitioner getting their record
        db.session.rollback()
        log.exception("could not write an audit checkpoint after a PDF export")


def _pdf_response(pdf: bytes, filename: str) -> Response:
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/decisions/<uuid:decision_id>/record")
@roles(*READERS)
def show_record(decision_id: uuid.UUID) -> str:
    """The record on screen, with links to the print view, the PDF and the recipient notice."""
    decision = get_viewable_decision_or_404(decision_id)
    _log_access(decision, events.RECORD_VIEWED, "record")
    return render_template("records/record.html", record=build_record(decision, current_user),
                           show_access_log=can_view_access_log(current_user, decision))


@bp.route("/decisions/<uuid:decision_id>/print-view")
@roles(*READERS)
def print_view(decision_id: uuid.UUID) -> str:
    """The same record as a standalone A4 document for the browser's print command."""
    decision = get_viewable_decision_or_404(decision_id)
    _log_access(decision, events.RECORD_PRINTED, "record")
    record = build_record(decision, current_user, action="Printed")
    return render_template("records/print.html", record=record, for_pdf=False)


@bp.route("/decisions/<uuid:decision_id>/record.pdf")
@roles(*READERS)
def download_pdf(decision_id: uuid.UUID) -> Response:
    """The print view rendered by WeasyPrint, as an attachment named after the reference."""
    decision = get_viewable_decision_or_404(decision_id)
    if _pdf_rate_limited():
        abort(429)
    _log_access(decision, events.RECORD_PDF_DOWNLOADED, "record")
    _checkpoint_after_export()
    record = build_record(decision, current_user, action="Downloaded")
    html = render_template("records/print.html", record=record, for_pdf=True)
    meta = PdfMetadata(title=f"{record.title} ({record.marking})", author=record.organisation_name,
                       subject="Safeguarding information-sharing decision record")
    return _pdf_response(render_pdf(html, meta, base_url=request.url_root), pdf_filename(decision))


@bp.route("/decisions/<uuid:decision_id>/recipient-notice")
@roles(*READERS)
def recipient_notice(decision_id: uuid.UUID) -> str:
    """The cover note for the receiving agency, on screen."""
    decision = get_viewable_decision_or_404(decision_id)
    _log_access(decision, events.RECORD_VIEWED, "recipient_notice")
    return render_template("records/recipient_notice.html",
                           notice=build_notice(decision, current_user))


@bp.route("/decisions/<uuid:decision_id>/recipient-notice.pdf")
@roles(*READERS)
def recipient_notice_pdf(decision_id: uuid.UUID) -> Response:
    """The cover note as a one-page PDF to send with the information."""
    decision = get_viewable_decision_or_404(decision_id)
    if _pdf_rate_limited():
        abort(429)
    _log_access(decision, events.RECORD_PDF_DOWNLOADED, "recipient_notice")
    notice = build_notice(decision, current_user, action="Downloaded")
    html = render_template("records/recipient_notice_print.html", notice=notice, for_pdf=True)
    meta = PdfMetadata(title=f"{notice.title} ({notice.marking})", author=notice.organisation_name,
                       subject="Recipient notice: handling of shared safeguarding information")
    return _pdf_response(render_pdf(html, meta, base_url=request.url_root),
                         pdf_filename(decision, "recipient-notice"))


@bp.route("/decisions/<uuid:decision_id>/access-log")
@roles(Role.SUPERVISOR, Role.DPO)
def access_log(decision_id: uuid.UUID) -> str:
    """Who has seen this record: team supervisors and the DPO only (same 404 otherwise)."""
    decision = get_viewable_decision_or_404(decision_id)
    if not can_view_access_log(current_user, decision):
        abort(404)
    _log_access(decision, events.RECORD_VIEWED, "access_log")
    entries = [(event, event_details(event))
               for event in access_events(decision.reference, include_denied=True)]
    return render_template("records/access_log.html", decision=decision, entries=entries,
                           access_labels=ACCESS_LABELS)
