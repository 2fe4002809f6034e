"""Signing in and out: the rules live here so views stay thin and tests can call them directly."""

from __future__ import annotations

from flask import redirect, session
from werkzeug.wrappers import Response
from flask_login import login_user, logout_user
from sqlalchemy import func, select

from decision_aid import audit, clock
from decision_aid.audit import events
from decision_aid.auth import passwords, throttle
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


def complete_first_factor(user: User, next_url: str) -> Response:
    """After a correct password: start the session and continue (issue 7 adds the second factor)."""
    start_session(user)
    return redirect(next_url)
