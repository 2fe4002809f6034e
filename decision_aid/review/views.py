"""Review pages: thin views over queue, service, dashboard and replay."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from decision_aid.auth.access import roles
from decision_aid.models import Role
from decision_aid.models.review import VERDICT_LABELS
from decision_aid.review import bp, dashboard, filters, queue, replay, service
from decision_aid.review.forms import VerdictForm
from decision_aid.review.sampling import REASON_LABELS

SUPERVISOR, DPO = Role.SUPERVISOR, Role.DPO


def list_context(scope: queue.Scope, default_status: str, endpoint: str) -> dict[str, Any]:
    """Everything the filterable, keyset-paginated list template needs (queue and DPO list)."""
    parsed = filters.parse_filters(request.args, default_status)
    after = queue.decode_key(request.args.get("after"))
    before = None if after else queue.decode_key(request.args.get("before"))
    page = queue.list_page(scope, parsed.filters, after=after, before=before)
    args: dict[str, Any] = dict(queue.filter_args(parsed.filters))  # url_for's **values are Any
    return {
        "page": page, "parsed": parsed, "f": parsed.filters, "args": args, "endpoint": endpoint,
        "next_url": url_for(endpoint, **args, after=queue.encode_key(page.next_key)) if page.next_key else None,
        "prev_url": url_for(endpoint, **args, before=queue.encode_key(page.prev_key)) if page.prev_key else None,
        "first_url": url_for(endpoint, **args) if (after or before) else None,
        "label": filters.label, "outcome_labels": filters.OUTCOME_LABELS,
        "verdict_labels": VERDICT_LABELS, "practitioners": page.names, **filters.options(scope),
    }


@bp.route("", endpoint="queue")
@roles(SUPERVISOR)
def queue_page() -> str:
    """Decisions by members of the supervisor's teams (never their own), oldest first."""
    context = list_context(service.scope_for(current_user), "awaiting", "review.queue")
    return render_template("review/queue.html", title="Review queue", **context)


@bp.route("/decisions/<uuid:decision_id>", methods=["GET", "POST"])
@roles(SUPERVISOR, DPO)
def review_decision(decision_id: uuid.UUID) -> str | Response:
    """The decision, its audit timeline and (for its reviewers) the verdict form."""
    decision = service.decision_for(current_user, decision_id, to_review=request.method == "POST")
    can_review = service.may_review(current_user, decision)
    form = VerdictForm() if can_review else None
    if form is not None and form.validate_on_submit():
        service.record_verdict(decision, current_user, form.verdict.data, form.reasons.data or "")
        flash(f"Verdict recorded for {decision.reference}")
        return redirect(url_for("review.queue"))
    if request.method == "GET":
        service.record_view(current_user, decision)
    decision = service.decision_for(current_user, decision_id)
    return render_template(
        "review/decision.html", decision=decision, form=form, can_review=can_review,
        reviews=service.reviews_of(decision.id), state=service.state_of(decision.id),
        timeline=service.timeline(decision), timeline_labels=service.TIMELINE_LABELS, label=filters.label,
        reason_labels=REASON_LABELS,
        selection=service.selection_of(decision.id), record_url=_record_url(decision.id),
        outcome_labels=filters.OUTCOME_LABELS, record=service.record_for(decision, current_user),
    )


def _record_url(decision_id: uuid.UUID) -> str | None:
    """Link to the full record when the records area is installed."""
    if "records.show_record" not in current_app.view_functions:
        return None
    return url_for("records.show_record", decision_id=decision_id)


@bp.route("/decisions/<uuid:decision_id>/replay")
@roles(SUPERVISOR, DPO)
def replay_decision(decision_id: uuid.UUID) -> str:
    """What the current rule set would conclude from the stored answers (changes nothing)."""
    decision = service.decision_for(current_user, decision_id)
    return render_template("review/replay.html", decision=decision, report=replay.replay(decision),
                           label=filters.label)


@bp.route("/dashboard", endpoint="dashboard")
@roles(SUPERVISOR, DPO)
def dashboard_page() -> str:
    """Counts and trends for the supervisor's teams, or for everything for the DPO."""
    scope = queue.Scope(team_ids=service.scope_for(current_user).team_ids)  # own decisions count too
    return render_template("review/dashboard.html", **dashboard.charts(scope),
                           is_dpo=current_user.has_role(DPO))
