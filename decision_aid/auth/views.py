"""Sign-in and sign-out pages."""

from __future__ import annotations

import uuid

from flask import redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from decision_aid.auth import bp, service
from decision_aid.auth.access import public, signed_in
from decision_aid.auth.forms import SignInForm
from decision_aid.extensions import db, login_manager
from decision_aid.models import User

GENERIC_FAILURE = "Enter a correct email address and password. After 10 failed attempts you must wait 15 minutes."


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Flask-Login calls this with the id kept in the server-side session."""
    try:
        user = db.session.get(User, uuid.UUID(user_id))
    except ValueError:
        return None
    return user if user is not None and user.active else None


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in() -> str | Response:
    """Sign in with e-mail and password; the second factor (when required) follows."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = SignInForm()
    if form.validate_on_submit():
        user = service.check_credentials(form.email.data or "", form.password.data or "")
        if user is not None:
            return service.complete_first_factor(user, _safe_next())
        form.email.errors = [*form.email.errors, GENERIC_FAILURE]
    return render_template("auth/sign_in.html", form=form)


def _safe_next() -> str:
    """Only same-site relative paths are followed after sign-in (no open redirect)."""
    target = request.args.get("next", "")
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("main.home")


@bp.route("/sign-out", methods=["POST"])
@signed_in
def sign_out() -> Response:
    """POST only: a GET must never change state."""
    service.end_session(current_user._get_current_object())
    return redirect(url_for("auth.signed_out"))


@bp.route("/signed-out")
@public
def signed_out() -> str:
    """Confirmation that the session has ended (also where an idle timeout lands)."""
    return render_template("auth/signed_out.html")
