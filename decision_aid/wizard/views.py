"""Wizard routes. Thin: check access, load the user's own object or 404, form, service, redirect."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, cast

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from decision_aid import clock
from decision_aid.auth.access import public, roles
from decision_aid.database import reads_first
from decision_aid.models import Role, User
from decision_aid.models.decision import Decision, Draft
from decision_aid.organisation import current_organisation
from decision_aid.wizard import bp, forms, presenters, service, state
from decision_aid.wizard.outcomes import category_records

WIZARD_ROLES = (Role.PRACTITIONER, Role.SUPERVISOR)


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


def _own_draft(draft_id: uuid.UUID) -> Draft:
    draft = service.find_draft(draft_id, _user())
    if draft is None:
        abort(404)
    return draft


def _own_decision(decision_id: uuid.UUID) -> Decision:
    decision = state.find_own_decision(decision_id, _user())
    if decision is None:
        abort(404)
    return decision


def resume_url(draft: Draft) -> str:
    """Where the draft's practitioner should be now: emergency pages, next question or summary."""
    if service.in_emergency_route(draft):
        page = "emergency_recipient" if draft.sharing.get("categories") else "emergency_what"
        return url_for(f"wizard.{page}", draft_id=draft.id)
    upcoming = service.next_question(draft)
    if upcoming is not None:
        return url_for("wizard.question", draft_id=draft.id, question_id=upcoming.id)
    return url_for("wizard.check_answers", draft_id=draft.id)


def _redirect_unless_complete(draft: Draft) -> Response | None:
    """Pages after the questions need every applicable question answered (no jumping ahead).

    The draft is complete exactly when `resume_url` would lead to Check your answers: not on
    the emergency route and no question left. Tested that way, so that the pages a draft is
    complete for (a submit above all, target T23) build no URL.
    """
    if service.in_emergency_route(draft) or service.next_question(draft) is not None:
        return redirect(resume_url(draft))
    return None


@bp.route("/decisions/start")
@roles(*WIZARD_ROLES)
def start() -> str:
    """What the tool does and does not do, the golden rules and the common myths."""
    return render_template("wizard/start.html")


@bp.route("/decisions/new", methods=["GET", "POST"])
@roles(*WIZARD_ROLES)
def new_decision() -> str | Response:
    """Case reference and decision date, then the first question."""
    org = current_organisation()
    form = forms.NewDecisionForm(data={"as_at": clock.today()})
    if form.validate_on_submit():
        # as_at is not optional: a form that validated holds a date there (GovDateField).
        draft = service.create_draft(_user(), form.case_ref.data, cast(dt.date, form.as_at.data))
        return redirect(resume_url(draft))
    return render_template("wizard/new_decision.html", form=form, org=org)


@bp.route("/decisions/drafts/<uuid:draft_id>")
@roles(*WIZARD_ROLES)
def resume(draft_id: uuid.UUID) -> Response:
    """Resume a draft where it was left."""
    return redirect(resume_url(_own_draft(draft_id)))


@bp.route("/decisions/drafts/<uuid:draft_id>/questions/<question_id:question_id>",
          methods=["GET", "POST"])
@roles(*WIZARD_ROLES)
def question(draft_id: uuid.UUID, question_id: str) -> str | Response:
    """One question page; answering it saves the draft and moves to whatever applies next."""
    draft = _own_draft(draft_id)
    asked = service.question_by_id(question_id)
    if not service.may_show_question(draft, asked):
        return redirect(resume_url(draft))
    form_class = forms.form_for(asked)
    form = form_class(data={f.fact: f.from_fact(draft.answers[f.fact])
                            for f in asked.fields if f.fact in draft.answers})
    if form.validate_on_submit():
        service.save_answers(draft, asked, {f.fact: form[f.fact].data for f in asked.fields})
        return redirect(resume_url(draft))
    previous = service.previous_question(draft, asked)
    back = (url_for("wizard.question", draft_id=draft.id, question_id=previous.id) if previous
            else url_for("wizard.list_decisions"))
    return render_template("wizard/question.html", form=form, question=asked, draft=draft, back=back)


@bp.route("/decisions/drafts/<uuid:draft_id>/check-your-answers")
@roles(*WIZARD_ROLES)
def check_answers(draft_id: uuid.UUID) -> str | Response:
    """Every answer with a Change link, before the recommendation."""
    draft = _own_draft(draft_id)
    if (early := _redirect_unless_complete(draft)) is not None:
        return early
    rows = service.answer_rows(draft.answers, service.applicable(draft))
    return render_template("wizard/check_answers.html", draft=draft, rows=rows)


@bp.route("/decisions/drafts/<uuid:draft_id>/recommendation")
@roles(*WIZARD_ROLES)
def recommendation(draft_id: uuid.UUID) -> str | Response:
    """The recommendation, its legal basis with citations, the trace and what would change it."""
    draft = _own_draft(draft_id)
    if (early := _redirect_unless_complete(draft)) is not None:
        return early
    result = service.evaluate(draft)
    return render_template("wizard/recommendation.html", draft=draft, result=result,
                           **_explained(result))


def _explained(result: dict[str, Any]) -> dict[str, Any]:
    rs = service.ruleset()
    return {"recommendation_text": presenters.recommendation_text(result["recommendation"]),
            "lists": presenters.conclusion_lists(result), "steps": presenters.trace_steps(result),
            "requirements": presenters.requirement_texts(result, rs),
            "would_change": presenters.would_change_texts(result, rs),
            "outcome_tags": presenters.OUTCOME_TAGS}


@bp.route("/decisions/drafts/<uuid:draft_id>/decision", methods=["GET", "POST"])
@roles(*WIZARD_ROLES)
@reads_first
def decision(draft_id: uuid.UUID) -> str | Response:
    """The practitioner's own decision; submitting stores it for good.

    A submit evaluates the rules once, in full (the stored Decision keeps 'would change'), and
    hands that evaluation to `service.submit`; showing the page needs only the recommendation.
    """
    draft = service.find_draft(draft_id, _user())
    if draft is None:
        return _already_submitted(draft_id)
    if (early := _redirect_unless_complete(draft)) is not None:
        return early
    form = forms.DecisionForm(data=_decision_defaults(draft))
    evaluated = service.evaluation(draft, full=form.is_submitted())
    form.recommendation = evaluated.result["recommendation"]
    if form.validate_on_submit():
        stored_id = service.submit(draft.id, _user(), form.outcome.data, _sharing_from(form),
                                   evaluated)
        return redirect(url_for("wizard.confirmation", decision_id=stored_id))
    return render_template("wizard/decision.html", form=form, draft=draft,
                           recommendation_text=presenters.recommendation_text(form.recommendation))


def _already_submitted(draft_id: uuid.UUID) -> Response:
    """A repeated submit (double click, back button) lands on the decision already stored."""
    stored = service.decision_for_draft(draft_id, _user())
    if stored is None:
        abort(404)
    return redirect(url_for("wizard.confirmation", decision_id=stored.id))


def _decision_defaults(draft: Draft) -> dict[str, Any]:
    saved = dict(draft.sharing)
    saved["categories"] = [c["id"] for c in saved.get("categories", []) if isinstance(c, dict)]
    saved.setdefault("shared_on", clock.today())
    saved.pop("shared_at", None)
    return saved


def _sharing_from(form: forms.DecisionForm) -> dict[str, Any]:
    """What was shared, with whom, how, when and why: free text stays inside `sharing`."""
    sharing_now = form.outcome.data in ("share_all", "share_part")
    advice = ([{"name": form.advice_name.data, "role": form.advice_role.data or ""}]
              if form.advice_name.data else [])
    return {
        "categories": category_records(form.categories.data or []) if sharing_now else [],
        "description": form.description.data or "",
        "recipient_org": form.recipient_org.data or "", "recipient_role": form.recipient_role.data or "",
        "method": form.method.data if sharing_now else None,
        "shared_at": form.shared_on.data.isoformat() if sharing_now and form.shared_on.data else None,
        "person_told": form.person_told.data,
        "not_told_reason": form.not_told_reason.data if form.person_told.data == "no" else "",
        "advice_from": advice, "reasons": form.reasons.data or "",
    }


@bp.route("/decisions/drafts/<uuid:draft_id>/emergency/what-you-are-sharing", methods=["GET", "POST"])
@roles(*WIZARD_ROLES)
def emergency_what(draft_id: uuid.UUID) -> str | Response:
    """Emergency page 1 of 2: what is being shared now."""
    draft = _own_draft(draft_id)
    if not service.in_emergency_route(draft):
        return redirect(resume_url(draft))
    form = forms.EmergencyWhatForm(data=_decision_defaults(draft))
    if form.validate_on_submit():
        service.save_sharing(draft, {"categories": category_records(form.categories.data),
                                     "description": form.description.data})
        return redirect(url_for("wizard.emergency_recipient", draft_id=draft.id))
    back = url_for("wizard.question", draft_id=draft.id, question_id=service.FIRST_QUESTION)
    return render_template("wizard/emergency_what.html", form=form, draft=draft, back=back)


@bp.route("/decisions/drafts/<uuid:draft_id>/emergency/who-and-how", methods=["GET", "POST"])
@roles(*WIZARD_ROLES)
@reads_first
def emergency_recipient(draft_id: uuid.UUID) -> str | Response:
    """Emergency page 2 of 2: with whom and how; submitting records the share, stamped now."""
    draft = service.find_draft(draft_id, _user())
    if draft is None:
        return _already_submitted(draft_id)
    if not service.in_emergency_route(draft) or not draft.sharing.get("categories"):
        return redirect(resume_url(draft))
    form = forms.EmergencyRecipientForm(data=_decision_defaults(draft))
    if form.validate_on_submit():
        stored_id = service.submit_emergency(draft.id, _user(), {
            "recipient_org": form.recipient_org.data, "recipient_role": form.recipient_role.data,
            "method": form.method.data})
        return redirect(url_for("wizard.confirmation", decision_id=stored_id))
    back = url_for("wizard.emergency_what", draft_id=draft.id)
    return render_template("wizard/emergency_recipient.html", form=form, draft=draft, back=back,
                           org_hours=service.completion_hours())


@bp.route("/decisions/<uuid:decision_id>/confirmation")
@roles(*WIZARD_ROLES)
def confirmation(decision_id: uuid.UUID) -> str:
    """The confirmation panel with the decision reference and links to the record."""
    stored = _own_decision(decision_id)
    return render_template("wizard/confirmation.html", decision=stored, record_url=_record_url(stored),
                           pending=state.emergency_pending(stored),
                           overdue=state.emergency_overdue(stored, clock.now()))


def _record_url(stored: Decision) -> str | None:
    """The records area's page for the decision, when that area is installed."""
    if "records.show_record" in current_app.view_functions:
        return url_for("records.show_record", decision_id=stored.id)
    return None


@bp.route("/decisions")
@roles(*WIZARD_ROLES)
def list_decisions() -> str:
    """The practitioner's drafts to resume and decisions made, with emergency records flagged.

    Decisions come 50 a page, newest first; `?older-than=<reference>` starts after that decision
    (an unknown or someone else's reference is a 404, like a missing page).
    """
    user = _user()
    start = None
    if (reference := request.args.get("older-than")) is not None:
        start = state.own_decision_by_reference(reference.strip(), user)
        if start is None:
            abort(404)
    page = state.decisions_for_practitioner(user, older_than=start)
    decisions, more = page[:state.PAGE_SIZE], len(page) > state.PAGE_SIZE
    completed = state.completed_ids(d.id for d in decisions if d.emergency)
    return render_template("wizard/list_decisions.html", drafts=service.drafts_for_practitioner(user),
                           decisions=decisions, completed=completed, now=clock.now(),
                           record_url=_record_url, older=decisions[-1].reference if more else None,
                           paged=start is not None)


@bp.route("/decisions/<uuid:decision_id>/reconsider", methods=["POST"])
@roles(*WIZARD_ROLES)
def reconsider(decision_id: uuid.UUID) -> Response:
    """Start a new decision linked to this one (for example when a requester brings new information)."""
    draft = service.start_reconsideration(_own_decision(decision_id), _user())
    return redirect(url_for("wizard.check_answers", draft_id=draft.id))


@bp.route("/decisions/<uuid:decision_id>/complete-emergency", methods=["POST"])
@roles(*WIZARD_ROLES)
@reads_first
def complete_emergency(decision_id: uuid.UUID) -> Response:
    """Start the full record of an emergency decision (once; later clicks resume the same draft)."""
    stored = _own_decision(decision_id)
    if not state.emergency_pending(stored):
        abort(404)
    draft = service.start_completion(stored, _user())
    return redirect(resume_url(draft))


def bench_hello() -> str:
    """The benchmark's baseline: a trivial route through the same app and middleware."""
    return "hello"


@bp.record_once
def _bench_route(setup_state: Any) -> None:
    if setup_state.app.config.get("BENCH_HELLO_ROUTE"):
        setup_state.app.add_url_rule("/bench/hello", "wizard.bench_hello", public(bench_hello))

