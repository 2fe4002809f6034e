"""The rules behind the account pages: listing and ending one's own sessions, changing the
password (which ends every other session), and step-up re-authentication."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app, session
from sqlalchemy import select

from decision_aid import audit, clock
from decision_aid.audit import events
from decision_aid.auth import mfa, passwords, stepup
from decision_aid.auth.sessions import ServerSession, session_expired, token_key
from decision_aid.database import write_transaction
from decision_aid.extensions import db
from decision_aid.logs import security_event
from decision_aid.models import User, WebSession

REAUTH_SUCCEEDED = "reauth.succeeded"  # not (yet) in decision_aid.audit.events
REAUTH_FAILED = "reauth.failed"
WRONG_PASSWORD = "Enter your current password correctly"  # noqa: S105 (a message)


@dataclass(frozen=True)
class SessionSummary:
    """What the sessions page shows about one live session (never the token)."""

    key: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    device: str
    current: bool


def current_key() -> str | None:
    """The table key of this request's session."""
    return token_key(session.token) if isinstance(session, ServerSession) and session.token else None


def live_sessions(user: User) -> list[SessionSummary]:
    """The user's sessions that have not ended, timed out or expired, newest first."""
    idle = dt.timedelta(minutes=int(current_app.config["IDLE_TIMEOUT_MINUTES"]))
    absolute = dt.timedelta(hours=int(current_app.config["ABSOLUTE_TIMEOUT_HOURS"]))
    rows = db.session.scalars(select(WebSession).where(
        WebSession.user_id == user.id, WebSession.ended_at.is_(None)).order_by(WebSession.last_seen_at.desc()))
    now, mine = clock.now(), current_key()
    return [SessionSummary(r.id, r.created_at, r.last_seen_at, describe_agent(r.user_agent or ""), r.id == mine)
            for r in rows if not session_expired(r, now, idle, absolute)]


def describe_agent(agent: str) -> str:
    """A short, human description such as 'Firefox on Windows' (never the raw string)."""
    browsers = (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
    systems = (("Windows", "Windows"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"),
               ("Mac OS", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))
    browser = next((name for marker, name in browsers if marker in agent), "Unknown browser")
    system = next((name for marker, name in systems if marker in agent), "an unknown device")
    return f"{browser} on {system}"


def end_session(user: User, key: str) -> bool:
    """End one of the user's own other sessions; False when the key is not one of them."""
    row = db.session.get(WebSession, key[:64])
    if row is None or row.user_id != user.id or row.ended_at is not None or key == current_key():
        return False
    with write_transaction():
        row.ended_at = clock.now()
        audit.record_event(events.SESSION_ENDED, actor=user, data={"reason": "ended_by_user", "count": 1})
    security_event("session_ended", outcome="success", actor=str(user.id), reason="ended_by_user")
    return True


def end_other_sessions(user: User, reason: str = "signed_out_everywhere_else") -> int:
    """End every session of the user except this one; returns how many ended."""
    from decision_aid.auth.sessions import end_user_sessions

    with write_transaction():
        count = end_user_sessions(user.id, except_key=current_key())
        audit.record_event(events.SESSION_ENDED, actor=user, data={"reason": reason, "count": count})
    security_event("session_ended", outcome="success", actor=str(user.id), reason=reason, count=count)
    return count


def change_password(user: User, current: str, new: str) -> str | None:
    """Change the password and end every other session; returns an error message or None."""
    if not passwords.verify_password(user.password_hash, current):
        security_event("password_change", outcome="failure", actor=str(user.id), reason="bad_password")
        return WRONG_PASSWORD
    if problem := passwords.password_problem(new, [user.email, user.display_name]):
        return problem
    with write_transaction():
        user.password_hash = passwords.hash_password(new)
        user.password_changed_at = clock.now()
        audit.record_event(events.PASSWORD_CHANGED, actor=user)
    security_event("password_change", outcome="success", actor=str(user.id))
    end_other_sessions(user, reason="password_changed")
    return None


def reauthenticate(user: User, password: str, code: str) -> str | None:
    """Step-up: the password and (when enrolled) a fresh code; returns an error or None."""
    if not passwords.verify_password(user.password_hash, password):
        return _reauth_failed(user, "bad_password", WRONG_PASSWORD)
    if mfa.is_enrolled(user):
        if not code.strip():
            return _reauth_failed(user, "no_code", "Enter the 6-digit code from your authenticator app")
        if not mfa.verify_code(user, code):
            return _reauth_failed(user, "bad_code", "The code is not correct or has already been used")
    stepup.mark_reauthenticated()
    with write_transaction():
        audit.record_event(REAUTH_SUCCEEDED, actor=user)
    security_event("reauthentication", outcome="success", actor=str(user.id))
    return None


def _reauth_failed(user: User, reason: str, message: str) -> str:
    security_event("reauthentication", outcome="failure", actor=str(user.id), reason=reason)
    return message


def keep_alive() -> None:
    """Mark the session changed so the store writes last_seen now (not only every 30 s)."""
    session["kept_alive_at"] = clock.now().isoformat()
