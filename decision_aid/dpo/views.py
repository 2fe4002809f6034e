"""DPO pages: audit chain status, every decision (read-only), exports."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from flask import Response, render_template, stream_with_context
from flask_login import current_user

from decision_aid import audit
from decision_aid.audit import events
from decision_aid.auth.access import roles
from decision_aid.database import write_transaction
from decision_aid.dpo import bp, export
from decision_aid.dpo.chain_status import chain_status
from decision_aid.dpo.forms import ExportForm
from decision_aid.auth.stepup import recent_auth_required
from decision_aid.models import Role
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
