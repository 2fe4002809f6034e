"""DPO pages: audit chain status, every decision (read-only), exports, the audit log search."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

from flask import Response, render_template, request, stream_with_context, url_for
from flask_login import current_user
from sqlalchemy import select

from decision_aid import audit
from decision_aid.audit import events
from decision_aid.auth.access import roles
from decision_aid.auth.stepup import recent_auth_required
from decision_aid.database import write_transaction
from decision_aid.dpo import audit_log, bp, export
from decision_aid.dpo.chain_status import chain_status
from decision_aid.dpo.forms import AuditLogFilterForm, ExportForm
from decision_aid.extensions import db
from decision_aid.models import Role, User
from decision_aid.models.decision import Decision
from decision_aid.review.queue import Scope
from decision_aid.review.views import list_context

DPO = Role.DPO
MIME = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


@bp.route("", endpoint="overview")
@roles(DPO)
def overview() -> str:
    """The audit chain's verification result and the latest signed checkpoint."""
    return render_template("dpo/overview.html", **chain_status())


@bp.route("/decisions", endpoint="decisions")
@roles(DPO)
def decisions() -> str:
    """Every decision in the organisation, with the review queue's filters (read-only)."""
    context = list_context(Scope(team_ids=None), "any", "dpo.decisions")
    return render_template("review/queue.html", title="All decisions", **context)


@bp.route("/export", endpoint="export")
@roles(DPO)
def export_page() -> str:
    """Choose what to export and the date range; the downloads are POSTs (they are audited)."""
    return render_template("dpo/export.html", form=ExportForm())


def _download(dataset: str, fmt: str, rows: Callable[[export.Range], Iterator[dict[str, Any]]],
              fields: tuple[str, ...]) -> Response | tuple[str, int]:
    """Validate the range, audit the export, then stream the file as an attachment."""
    form = ExportForm()
    if not form.validate_on_submit():
        return render_template("dpo/export.html", form=form), 400
    period = export.Range(form.date_from.data, form.date_to.data)
    with write_transaction():
        audit.record_event(events.DATA_EXPORTED, actor=current_user,
                           data={"dataset": dataset, "format": fmt, **period.as_data()})
    body = export.as_csv(rows(period), fields) if fmt == "csv" else export.as_json(rows(period), dataset)
    response = Response(stream_with_context(body), mimetype=MIME[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{dataset}.{fmt}"'
    return response


@bp.route("/export/decisions.csv", methods=["POST"])
@roles(DPO)
@recent_auth_required(max_age_minutes=5)
def export_decisions_csv() -> Response | tuple[str, int]:
    """Every decision in the range as CSV."""
    return _download("decisions", "csv", export.decision_rows, export.DECISION_FIELDS)


@bp.route("/export/decisions.json", methods=["POST"])
@roles(DPO)
@recent_auth_required(max_age_minutes=5)
def export_decisions_json() -> Response | tuple[str, int]:
    """Every decision in the range as JSON."""
    return _download("decisions", "json", export.decision_rows, export.DECISION_FIELDS)


@bp.route("/export/audit-events.csv", methods=["POST"])
@roles(DPO)
@recent_auth_required(max_age_minutes=5)
def export_audit_csv() -> Response | tuple[str, int]:
    """Every audit event in the range as CSV."""
    return _download("audit-events", "csv", export.audit_rows, export.AUDIT_FIELDS)


@bp.route("/export/audit-events.json", methods=["POST"])
@roles(DPO)
@recent_auth_required(max_age_minutes=5)
def export_audit_json() -> Response | tuple[str, int]:
    """Every audit event in the range as JSON."""
    return _download("audit-events", "json", export.audit_rows, export.AUDIT_FIELDS)


def _audit_log_choices(form: AuditLogFilterForm) -> None:
    """Fill the staff and event selects (staff beyond the first 1,000 are found by e-mail)."""
    people = db.session.execute(select(User.id, User.display_name).order_by(User.display_name).limit(1000))
    form.actor.choices = [("", "Anyone"), (audit_log.SYSTEM_ACTOR, "The system"),
                          *((str(uid), name) for uid, name in people)]
    form.event_type.choices = [("", "Any event"),
                               *sorted(((e, audit_log.event_label(e)) for e in events.ALL_EVENTS),
                                       key=lambda pair: pair[1])]


def _actor_names(page: audit_log.AuditPage | None) -> dict[str, str]:
    """Actor id -> current name for the staff on this page (one query)."""
    ids = set()
    for event in page.events if page else []:
        try:
            ids.add(uuid.UUID(event.actor_id or ""))
        except ValueError:
            continue  # the system (no actor), or an id that is not a user's
    if not ids:
        return {}
    rows = db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {str(uid): name for uid, name in rows}


def _audit_filters(form: AuditLogFilterForm) -> audit_log.AuditFilters | None:
    """The search the form asks for, or None when the e-mail address belongs to nobody."""
    actor_id = form.actor.data or None
    email = (form.actor_email.data or "").strip().lower()
    if email:
        found = db.session.scalar(select(User.id).where(User.email == email))
        if found is None:
            form.actor_email.errors = [*form.actor_email.errors, "No staff member has that e-mail address"]
            return None
        if actor_id and actor_id != str(found):
            form.actor_email.errors = [*form.actor_email.errors,
                                       "Choose a staff member or enter an e-mail address, not two different people"]
            return None
        actor_id = str(found)
    case_ref = (form.case_ref.data or "").strip().upper() or None
    return audit_log.AuditFilters(actor_id=actor_id, case_ref=case_ref, event_type=form.event_type.data or None,
                                  date_from=form.date_from.data, date_to=form.date_to.data)


def _decision_ids(refs: set[str]) -> dict[str, Any]:
    """Decision reference -> id for the page's links to records (one query)."""
    if not refs:
        return {}
    rows = db.session.execute(select(Decision.reference, Decision.id).where(Decision.reference.in_(refs)))
    return {reference: decision_id for reference, decision_id in rows}


@bp.route("/audit-log", endpoint="audit_log")
@roles(DPO)
def audit_log_page() -> str:
    """Search the whole audit log, 50 events a page, newest first (keyset: `before=<seq>`).

    A search reads staff activity, so it is itself audited (like an export): the event holds
    the names of the filters used, never their values, except the case reference, which is
    pseudonymous and goes in the event's case_ref column so the case's own history shows it.
    """
    form = AuditLogFilterForm(request.args)
    _audit_log_choices(form)
    page, filters = None, None
    if form.validate():
        filters = _audit_filters(form)
    if filters is not None:
        before = int(form.before.data) if form.before.data else None
        with write_transaction():
            audit.record_event(events.AUDIT_LOG_SEARCHED, actor=current_user, case_ref=filters.case_ref,
                               data={"filters": filters.keys(), "page": "older" if before else "first"})
        page = audit_log.search(db.session(), filters, before)
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "before" and v}
    older_url = url_for("dpo.audit_log", **args, before=page.older_before) if page and page.older_before else None
    refs = {e.decision_ref for e in page.events if e.decision_ref} if page else set()
    return render_template(
        "dpo/audit_log.html", form=form, page=page, names=_actor_names(page), older_url=older_url,
        first_url=url_for("dpo.audit_log", **args) if form.before.data else None,
        decision_ids=_decision_ids(refs), label=audit_log.event_label, code=audit.verification_code,
        system=audit_log.SYSTEM_ACTOR)
