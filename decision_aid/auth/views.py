"""Sign-in and sign-out pages."""

from __future__ import annotations

import uuid

from authlib.common.errors import AuthlibBaseError
from flask import abort, redirect, render_template, request, session, url_for
from flask_login import current_user
from requests.exceptions import RequestException
from werkzeug.wrappers import Response

from decision_aid.auth import bp, mfa, oidc, service
from decision_aid.auth.access import public, signed_in
from decision_aid.auth.forms import ActionForm, CodeForm, RecoveryCodeForm, SignInForm
from decision_aid.extensions import db, login_manager
from decision_aid.logs import security_event
from decision_aid.models import User

GENERIC_FAILURE = "Enter a correct email address and password. After 10 failed attempts you must wait 15 minutes."
WRONG_CODE = ("The code is not correct or has already been used. "
              "Enter the current 6-digit code from your authenticator app")
WRONG_RECOVERY_CODE = "The recovery code is not correct or has already been used"


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
    return render_template("auth/sign_in.html", form=form, sso=ActionForm(prefix="sso") if oidc.configured() else None)


def _safe_next() -> str:
    """Only same-site relative paths are followed after sign-in (no open redirect)."""
    return service.safe_path(request.args.get("next"), url_for("main.home"))


def _pending_or_restart() -> User | Response:
    """The half-signed-in user, or a redirect back to the password page when there is none."""
    user = service.pending_user()
    return user if user is not None else redirect(url_for("auth.sign_in"))


@bp.route("/sign-in/two-factor", methods=["GET", "POST"])
@public
def two_factor() -> str | Response:
    """Second step of sign-in: a code from the authenticator app."""
    user = _pending_or_restart()
    if not isinstance(user, User):
        return user
    form = CodeForm()
    if form.validate_on_submit():
        if mfa.verify_code(user, form.code.data or ""):
            return redirect(service.complete_second_factor(user))
        form.code.errors = [*form.code.errors, WRONG_CODE]
    return render_template("auth/two_factor.html", form=form)


@bp.route("/sign-in/recovery-code", methods=["GET", "POST"])
@public
def recovery_code() -> str | Response:
    """Second step of sign-in with a single-use recovery code instead of the app."""
    user = _pending_or_restart()
    if not isinstance(user, User):
        return user
    form = RecoveryCodeForm()
    if form.validate_on_submit():
        if mfa.use_recovery_code(user, form.code.data or ""):
            return redirect(service.complete_second_factor(user))
        form.code.errors = [*form.code.errors, WRONG_RECOVERY_CODE]
    return render_template("auth/recovery_code.html", form=form)


@bp.route("/sign-in/set-up-two-factor", methods=["GET", "POST"])
@public
def set_up_two_factor() -> str | Response:
    """Enrolment during sign-in: scan the QR code (or type the key), then prove it with a code."""
    user = _pending_or_restart()
    if not isinstance(user, User):
        return user
    secret = service.enrolment_secret(user)
    if secret is None or mfa.is_enrolled(user):
        return redirect(url_for("auth.sign_in"))
    form = CodeForm()
    if form.validate_on_submit():
        codes = mfa.confirm_enrolment(user, secret, form.code.data or "")
        if codes is not None:
            next_url = service.complete_second_factor(user)
            return render_template("auth/recovery_codes.html", codes=codes, next_url=next_url)
        form.code.errors = [*form.code.errors, WRONG_CODE]
    return render_template("auth/set_up_two_factor.html", form=form, **enrolment_view(user, secret))


def enrolment_view(user: User, secret: str) -> dict[str, str]:
    """What an enrolment page shows: the QR code image and the key as text."""
    uri = mfa.provisioning_uri(user, secret)
    return {"qr_src": mfa.qr_data_uri(uri), "key": mfa.grouped_key(secret)}


@bp.route("/sign-out", methods=["POST"])
@signed_in
def sign_out() -> Response:
    """POST only: a GET must never change state."""
    service.end_session(current_user._get_current_object())
    response = redirect(url_for("auth.signed_out"))
    # Shared workstations: ask the browser to drop its cache and storage too (ASVS 14.3.1).
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response


@bp.route("/signed-out")
@public
def signed_out() -> str:
    """Confirmation that the session has ended (also where an idle timeout lands)."""
    return render_template("auth/signed_out.html")


SSO_FAILURE = ("Your organisation's sign-in worked, but there is no active account here for that email "
               "address. Ask your administrator.")
SSO_ERROR = "Signing in with your organisation account did not work. Try again, or use your email address and password."


@bp.route("/sign-in/sso", methods=["POST"])
@public
def sso_start() -> Response:
    """Send the browser to the organisation's identity provider (POST: a GET never changes state)."""
    if not oidc.configured():
        abort(404)
    if not ActionForm(prefix="sso").validate_on_submit():
        return redirect(url_for("auth.sign_in"))
    session[service.PENDING_NEXT] = _safe_next()
    return oidc.client().authorize_redirect(url_for("auth.sso_callback", _external=True))


@bp.route("/sign-in/sso/callback")
@public
def sso_callback() -> str | Response:
    """The provider sends the browser back here with a code; Authlib checks state and ID token."""
    if not oidc.configured():
        abort(404)
    next_url = service.safe_path(session.pop(service.PENDING_NEXT, None), url_for("main.home"))
    try:
        token = oidc.client().authorize_access_token(claims_options=oidc.claims_options())
    except (AuthlibBaseError, ValueError, KeyError, RequestException):  # state, token, signature...
        return _sso_failed("provider_error", SSO_ERROR)
    response = service.sso_sign_in(token.get("userinfo") or {}, next_url)
    return response if response is not None else _sso_failed("no_matching_account", SSO_FAILURE)


def _sso_failed(reason: str, message: str) -> str:
    security_event("sso", outcome="failure", reason=reason)
    form = SignInForm()
    form.email.errors = [message]
    return render_template("auth/sign_in.html", form=form, sso=ActionForm(prefix="sso"))
