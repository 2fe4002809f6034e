"""Account pages: thin views over account.service."""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from decision_aid.account import bp, service
from decision_aid.auth import mfa
from decision_aid.auth import service as auth_service
from decision_aid.auth.access import signed_in
from decision_aid.auth.forms import ActionForm, ChangePasswordForm, CodeForm, ReauthenticateForm
from decision_aid.auth.stepup import reauthenticated_within, recent_auth_required
from decision_aid.auth.views import WRONG_CODE, enrolment_view

SESSION_END_STEP_UP = dt.timedelta(minutes=5)


def _me() -> object:
    return current_user._get_current_object()


@bp.route("")
@signed_in
def overview() -> str:
    """Links to the user's sessions, password and authenticator app."""
    user = _me()
    return render_template("account/overview.html", enrolled=mfa.is_enrolled(user),  # type: ignore[arg-type]
                           remaining=mfa.remaining_recovery_codes(user))  # type: ignore[arg-type]


@bp.route("/sessions", methods=["GET", "POST"])
@signed_in
def sessions() -> str | Response:
    """Live sessions; POST ends one (target=key) or all the others (target empty).

    Ending sessions needs the password (and code) re-entered within 5 minutes (ASVS 7.5.2), so
    someone at an unattended screen cannot sign the owner out of the device they are using.
    """
    form = ActionForm()
    if form.validate_on_submit():
        if not reauthenticated_within(SESSION_END_STEP_UP):
            flash("Confirm it is you, then choose the session to end again")
            return redirect(url_for("account.reauthenticate", next=url_for("account.sessions")))
        if form.target.data:
            ended = service.end_session(_me(), form.target.data)  # type: ignore[arg-type]
            flash("Session ended" if ended else "That session had already ended")
        else:
            count = service.end_other_sessions(_me())  # type: ignore[arg-type]
            flash(f"Signed out of {count} other session{'s' if count != 1 else ''}")
        return redirect(url_for("account.sessions"))
    return render_template("account/sessions.html", form=form, rows=service.live_sessions(_me()))  # type: ignore[arg-type]


@bp.route("/password", methods=["GET", "POST"])
@signed_in
def password() -> str | Response:
    """Change the password; every other session ends."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        problem = service.change_password(_me(), form.current_password.data or "",  # type: ignore[arg-type]
                                          form.new_password.data or "")
        if problem is None:
            flash("Password changed. You have been signed out everywhere else.")
            return redirect(url_for("account.overview"))
        field = form.current_password if problem == service.WRONG_PASSWORD else form.new_password
        field.errors = [*field.errors, problem]
    return render_template("account/password.html", form=form)


@bp.route("/reauthenticate", methods=["GET", "POST"])
@signed_in
def reauthenticate() -> str | Response:
    """Step-up: enter the password (and a code) again before a sensitive action."""
    form = ReauthenticateForm()
    next_url = auth_service.safe_path(request.args.get("next"), url_for("account.overview"))
    if form.validate_on_submit():
        problem = service.reauthenticate(_me(), form.password.data or "", form.code.data or "")  # type: ignore[arg-type]
        if problem is None:
            return redirect(next_url)
        field = form.password if problem == service.WRONG_PASSWORD else form.code
        field.errors = [*field.errors, problem]
    return render_template("account/reauthenticate.html", form=form,
                           needs_code=mfa.is_enrolled(_me()))  # type: ignore[arg-type]


@bp.route("/two-factor", methods=["GET", "POST"])
@signed_in
@recent_auth_required(max_age_minutes=5)
def two_factor() -> str | Response:
    """Set up a (new) authenticator app; POST without a code starts a fresh enrolment."""
    form = CodeForm()
    secret = auth_service.enrolment_secret(_me())  # type: ignore[arg-type]
    if request.method == "POST" and "code" not in request.form:
        if ActionForm().validate_on_submit():
            auth_service.start_enrolment()
        return redirect(url_for("account.two_factor"))
    if secret is not None and form.validate_on_submit():
        codes = mfa.confirm_enrolment(_me(), secret, form.code.data or "")  # type: ignore[arg-type]
        if codes is not None:
            auth_service.finish_enrolment()
            return render_template("auth/recovery_codes.html", codes=codes, next_url=url_for("account.overview"))
        form.code.errors = [*form.code.errors, WRONG_CODE]
    view = enrolment_view(_me(), secret) if secret else {}  # type: ignore[arg-type]
    return render_template("account/two_factor.html", form=form, action=ActionForm(), secret=secret, **view)


@bp.route("/keep-alive", methods=["POST"])
@signed_in
def keep_alive() -> tuple[str, int]:
    """'Stay signed in' from the timeout warning: touches the server-side session (204)."""
    service.keep_alive()
    return "", 204
