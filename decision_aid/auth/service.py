"""Signing in and out: the rules live here so views stay thin and tests can call them directly."""

from __future__ import annotations

import datetime as dt
import uuid

from flask import redirect, session, url_for
from flask_login import login_user, logout_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from decision_aid import audit, clock
from decision_aid.audit import events
from decision_aid.auth import mfa, passwords, throttle
from decision_aid.auth.sessions import ServerSession
from decision_aid.database import write_transaction
from decision_aid.extensions import db
from decision_aid.logs import security_event
from decision_aid.models import User


def find_user(email: str) -> User | None:
    """Case-insensitive lookup by e-mail address."""
    return db.session.scalars(
        select(User).where(func.lower(User.email) == email.strip().lower())
    ).first()


def check_credentials(email: str, password: str) -> User | None:
    """The user when the password is right, the account active and not throttled; else None.

    The same work (one Argon2 verification) is done whatever the outcome, so the response time
    does not reveal whether an account exists.
    """
    user = find_user(email)
    locked = throttle.is_locked(email)
    valid = passwords.verify_password(user.password_hash if user else None, password)
    if user is None or locked or not valid or not user.active:
        _record_failure(email, user, "throttled" if locked else "bad_credentials")
        return None
    return user


def _record_failure(email: str, user: User | None, reason: str) -> None:
    with write_transaction():
        throttle.record_failure(email)
        audit.record_event(
            events.SIGN_IN_FAILED, actor=user, data={"reason": reason}
        )
    security_event("sign_in", outcome="failure", reason=reason)


def start_session(user: User) -> None:
    """Rotate the session id (no fixation), remember who signed in, and log it."""
    _rotate()
    login_user(user)
    session["authenticated_at"] = clock.now().isoformat()
    with write_transaction():
        throttle.clear_failures(user.email)
        audit.record_event(events.SIGN_IN_SUCCEEDED, actor=user)
    security_event("sign_in", outcome="success", actor=str(user.id))


def end_session(user: User | None) -> None:
    """Sign out: the server-side row is ended, so a copied cookie stops working at once."""
    if user is not None:
        with write_transaction():
            audit.record_event(events.SIGNED_OUT, actor=user)
        security_event("sign_out", outcome="success", actor=str(user.id))
    logout_user()
    session.clear()
    if isinstance(session, ServerSession):
        session.end = True


def _rotate() -> None:
    session.clear()
    if isinstance(session, ServerSession):
        session.rotate = True


PENDING_USER = "pending_user_id"
PENDING_SINCE = "pending_since"
PENDING_NEXT = "pending_next"
ENROL_NONCE = "mfa_enrol_nonce"
PENDING_MAX_AGE = dt.timedelta(minutes=10)


def complete_first_factor(user: User, next_url: str) -> Response:
    """After a correct password: sign in at once, or hold the user half-signed-in for a code.

    Nothing about the half-signed-in state counts as signed in: only `pending_user_id` is kept,
    for ten minutes, and Flask-Login never sees the user until the second factor is right.
    """
    enrolled = mfa.is_enrolled(user)
    if not enrolled and not mfa.is_required(user):
        start_session(user)
        return redirect(next_url)
    _rotate()
    session[PENDING_USER] = str(user.id)
    session[PENDING_SINCE] = clock.now().isoformat()
    session[PENDING_NEXT] = next_url
    if enrolled:
        return redirect(url_for("auth.two_factor"))
    session[ENROL_NONCE] = mfa.new_enrolment_nonce()
    return redirect(url_for("auth.set_up_two_factor"))


def pending_user() -> User | None:
    """The user who passed the password step in this session in the last ten minutes, if any."""
    raw, since = session.get(PENDING_USER), session.get(PENDING_SINCE)
    if not raw or not since:
        return None
    if clock.now() - dt.datetime.fromisoformat(since) > PENDING_MAX_AGE:
        return None
    try:
        user = db.session.get(User, uuid.UUID(raw))
    except ValueError:
        return None
    return user if user is not None and user.active else None


def enrolment_secret(user: User) -> str | None:
    """The candidate secret for the enrolment in progress in this session."""
    nonce = session.get(ENROL_NONCE)
    return mfa.pending_secret(user.id, nonce) if nonce else None


def start_enrolment() -> None:
    """Begin a (re-)enrolment from the account page: a new candidate secret for this session."""
    session[ENROL_NONCE] = mfa.new_enrolment_nonce()


def finish_enrolment() -> None:
    """Forget the enrolment nonce once the new app is confirmed."""
    session.pop(ENROL_NONCE, None)


def complete_second_factor(user: User) -> str:
    """Sign the pending user in for real (new session id) and return where they were going."""
    next_url = session.get(PENDING_NEXT) or url_for("main.home")
    start_session(user)
    session["mfa_at"] = clock.now().isoformat()
    session["mfa_verified"] = True
    return str(next_url)


def safe_path(target: str | None, default: str) -> str:
    """Only same-site relative paths are followed after sign-in (no open redirect)."""
    target = target or ""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def sso_sign_in(claims: dict[str, object], next_url: str) -> Response | None:
    """Finish an OpenID Connect sign-in: match a verified e-mail to an active account.

    Returns None (and records a failure) when no active account matches. The provider's MFA
    counts only when oidc.provider_did_mfa() says so; otherwise our own second factor follows.
    """
    from decision_aid.auth import oidc

    email = oidc.verified_email(dict(claims))
    user = find_user(email) if email else None
    if user is None or not user.active:
        _record_failure(email or "sso:unverified", user, "sso_no_matching_account")
        return None
    if oidc.provider_did_mfa(dict(claims)):
        start_session(user)
        session["mfa_verified"] = True
        return redirect(next_url)
    return complete_first_factor(user, next_url)
