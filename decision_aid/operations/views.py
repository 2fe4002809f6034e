"""DPO operations pages: thin views over governance, subject access and complaints."""

from __future__ import annotations

import json
import re
import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from decision_aid import clock
from decision_aid.auth.access import roles
from decision_aid.extensions import db
from decision_aid.models import Role
from decision_aid.models.decision import Decision
from decision_aid.operations import bp, complaints, governance, subject_access
from decision_aid.operations.forms import CaseSearchForm, ComplaintForm, SignOffForm
from decision_aid.organisation import current_organisation

DPO = Role.DPO
CASE_REF_URL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/_.-]{0,63}$")


@bp.route("/")
@roles(DPO)
def index() -> str:
    """What the DPO looks after here, with the state of each."""
    org = current_organisation()
    return render_template(
        "operations/index.html", approved=governance.ruleset_approved(),
        in_use=governance.ruleset_in_use(), unverified=len(governance.unverified_rules()),
        apd_overdue=bool(org and org.apd_review_overdue(clock.today())), org=org)


@bp.route("/rules", methods=["GET", "POST"])
@roles(DPO)
def rules_sign_off() -> str | Response:
    """Rules still tagged [U], the version in use, and the sign-off form."""
    form = SignOffForm()
    if form.validate_on_submit():
        governance.sign_off(current_user, form.notes.data or "")
        flash("You approved the rules in use")
        return redirect(url_for("operations.rules_sign_off"))
    return render_template(
        "operations/rules.html", form=form, in_use=governance.ruleset_in_use(),
        approved=governance.ruleset_approved(), unverified=governance.unverified_rules(),
        sign_offs=governance.sign_offs())


def _case_ref_or_404() -> str | None:
    """The case reference from the query string (?case_ref=...); None if absent, 404 if malformed."""
    case_ref = request.args.get("case_ref", "")
    if not case_ref:
        return None
    if not CASE_REF_URL.match(case_ref):
        abort(404)
    return subject_access.normalise_case_ref(case_ref)


def _to_search() -> Response:
    return redirect(url_for("operations.subject_access_search"))


@bp.route("/subject-access")
@roles(DPO)
def subject_access_search() -> str:
    """Search by case reference; lists every decision about it."""
    form = CaseSearchForm(request.args)
    decisions = None
    case_ref = ""
    if "case_ref" in request.args and form.validate():
        case_ref = subject_access.normalise_case_ref(form.case_ref.data or "")
        decisions = subject_access.decisions_for_case(case_ref)
    return render_template("operations/subject_access.html", form=form, decisions=decisions,
                           case_ref=case_ref, url_safe=bool(CASE_REF_URL.match(case_ref)))


@bp.route("/subject-access/export.json")
@roles(DPO)
def subject_access_json() -> Response:
    """Everything about the case as JSON, third parties flagged for redaction review."""
    case_ref = _case_ref_or_404()
    if case_ref is None:
        return _to_search()
    export = subject_access.build_export(case_ref)
    subject_access.record_export(current_user, case_ref, "json", len(export["decisions"]))
    body = json.dumps(export, indent=2, ensure_ascii=False, default=str)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="subject-access-{case_ref}.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/subject-access/export.pdf")
@roles(DPO)
def subject_access_pdf() -> Response:
    """The same export as a PDF for disclosure, with items to review highlighted."""
    from decision_aid.records.pdf import PdfMetadata, render_pdf

    case_ref = _case_ref_or_404()
    if case_ref is None:
        return _to_search()
    export = subject_access.build_export(case_ref)
    subject_access.record_export(current_user, case_ref, "pdf", len(export["decisions"]))
    html = render_template("operations/subject_access_print.html", export=export)
    pdf = render_pdf(html, PdfMetadata(title=f"Subject access export {case_ref}",
                                       subject="Subject access export"), css="")
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="subject-access-{case_ref}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/decisions/<uuid:decision_id>/complaints/new", methods=["GET", "POST"])
@roles(DPO)
def new_complaint(decision_id: uuid.UUID) -> str | Response:
    """Log a complaint against a decision; shows the s164A acknowledgement deadline."""
    decision = db.session.get(Decision, decision_id) or abort(404)
    form = ComplaintForm()
    if form.validate_on_submit() and form.received_on.data is not None:
        row = complaints.log_complaint(current_user, decision, form.received_on.data,
                                       form.summary.data or "")
        due = row.acknowledgement_due
        flash(f"Complaint logged. Acknowledge it by {due.strftime('%d %B %Y').lstrip('0')}" if due
              else "Complaint logged")
        return redirect(url_for("operations.complaints_list"))
    return render_template("operations/new_complaint.html", form=form, decision=decision,
                           s164a_from=complaints.s164a_from())


@bp.route("/complaints")
@roles(DPO)
def complaints_list() -> str:
    """Every complaint with its acknowledgement deadline, oldest first."""
    from sqlalchemy import select

    ids = list(db.session.scalars(select(Decision.id).join(
        complaints.Complaint, complaints.Complaint.decision_id == Decision.id)))
    rows = complaints.complaints_for(list(set(ids)))
    refs = {d.id: d.reference for d in db.session.scalars(select(Decision).where(Decision.id.in_(ids)))}
    return render_template("operations/complaints.html", complaints=rows, refs=refs,
                           today=clock.today())
