"""Server-side sessions: the cookie carries only a random token; the data lives in `web_session`.

Flask's default signed-cookie session cannot be ended from the server, so a copied cookie would
outlive sign-out. Here sign-out, disabling an account, or "end session" deletes nothing and
simply marks the row ended; the next request with that token gets a fresh, empty session.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from typing import Any, Protocol, cast

from flask import Flask, Request, Response, has_request_context, request
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import Table, bindparam, select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import CallbackDict

from decision_aid import clock
from decision_aid.database import write_transaction
from decision_aid.extensions import db
from decision_aid.models import WebSession

TOUCH_INTERVAL = dt.timedelta(seconds=30)


class ServerSession(CallbackDict[str, Any], SessionMixin):
    """A dict that knows its token and whether it changed."""

    def __init__(self, initial: dict[str, Any] | None = None, token: str | None = None) -> None:
        def on_update(_: CallbackDict[str, Any]) -> None:
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.token = token
        self.last_seen_at: dt.datetime | None = None  # as loaded: decides whether a touch is due
        self.modified = False
        self.rotate = False
        self.end = False


def token_key(token: str) -> str:
    """Only a hash of the token is stored, so a database read does not yield live cookies."""
    return hashlib.sha256(token.encode()).hexdigest()


_TABLE = cast(Table, WebSession.__table__)
# Every request opens its session: a Core read of the four columns it needs costs about a tenth
# of the CPU of loading the ORM object (target T23). Writes load the row through the ORM.
_OPEN = select(_TABLE.c.data, _TABLE.c.created_at, _TABLE.c.last_seen_at, _TABLE.c.ended_at).where(
    _TABLE.c.id == bindparam("key"))


class SessionTimes(Protocol):
    """What expiry looks at: a WebSession, or a row read with `_OPEN`."""

    created_at: dt.datetime
    last_seen_at: dt.datetime
    ended_at: dt.datetime | None


def session_expired(row: SessionTimes, now: dt.datetime, idle: dt.timedelta,
                    absolute: dt.timedelta) -> bool:
    """Ended, idle too long, or older than the absolute lifetime."""
    return row.ended_at is not None or now - row.last_seen_at > idle or now - row.created_at > absolute


class DatabaseSessionInterface(SessionInterface):
    """Loads and saves ServerSession objects from the `web_session` table."""

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        token = request.cookies.get(self.get_cookie_name(app))
        if not token or len(token) > 100:
            return ServerSession()
        try:
            row = db.session.connection().execute(_OPEN, {"key": token_key(token)}).first()
        except SQLAlchemyError:
            db.session.rollback()
            return ServerSession()
        if row is None or session_expired(row, clock.now(), *_limits(app)):
            if row is not None and row.ended_at is None:
                _end_row(token)
            return ServerSession()
        loaded = ServerSession(dict(row.data or {}), token=token)
        loaded.last_seen_at = row.last_seen_at
        return loaded

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)
        name = self.get_cookie_name(app)
        if session.end:
            _end_row(session.token)
            response.delete_cookie(name, path="/", secure=self.get_cookie_secure(app), httponly=True)
            return
        if session.token is None and not session:
            return
        if session.rotate and session.token:
            _end_row(session.token)
            session.token = None
        token = session.token
        created = token is None
        if token is None:
            token = session.token = secrets.token_urlsafe(32)
        try:
            _store(session, created)
        except SQLAlchemyError:
            db.session.rollback()  # the error page is already on its way; keep no cookie
            return
        if created:
            response.set_cookie(
                name, token, httponly=True, path="/",
                secure=self.get_cookie_secure(app), samesite=self.get_cookie_samesite(app),
            )


def _limits(app: Flask) -> tuple[dt.timedelta, dt.timedelta]:
    return (
        dt.timedelta(minutes=int(app.config["IDLE_TIMEOUT_MINUTES"])),
        dt.timedelta(hours=int(app.config["ABSOLUTE_TIMEOUT_HOURS"])),
    )


def _store(session: ServerSession, created: bool) -> None:
    """Write the row when new or changed; otherwise only touch last_seen every 30 seconds.

    Whether a touch is due comes from the time read when the session was opened, so a request
    that changes nothing costs no second read of its row.
    """
    now = clock.now()
    assert session.token is not None
    key = token_key(session.token)
    seen = session.last_seen_at
    due = created or session.modified or seen is None or now - seen >= TOUCH_INTERVAL
    if not due:
        return
    with write_transaction():  # the write lock first: see decision_aid.database
        _write_row(session, key, now, created)


def _write_row(session: ServerSession, key: str, now: dt.datetime, created: bool) -> None:
    row = None if created else db.session.get(WebSession, key)
    if row is None:
        row = WebSession(id=key, created_at=now, last_seen_at=now, data={}, user_agent=_user_agent())
        db.session.add(row)
    if created or session.modified:
        row.data = dict(session)
        row.user_id = _user_id(session)
    row.last_seen_at = now


def _user_agent() -> str:
    """The browser's User-Agent (first 200 characters), so users can recognise their sessions."""
    return request.user_agent.string[:200] if has_request_context() else ""


def _user_id(session: ServerSession) -> uuid.UUID | None:
    raw = session.get("_user_id")
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError:
        return None


def _end_row(token: str | None) -> None:
    if not token:
        return
    with write_transaction():
        row = db.session.get(WebSession, token_key(token))
        if row is not None and row.ended_at is None:
            row.ended_at = clock.now()


def end_user_sessions(user_id: uuid.UUID, *, except_key: str | None = None) -> int:
    """End every live session of a user (sign out everywhere, account disabled, password reset)."""
    rows = db.session.scalars(
        db.select(WebSession).where(WebSession.user_id == user_id, WebSession.ended_at.is_(None))
    ).all()
    count = 0
    for row in rows:
        if row.id != except_key:
            row.ended_at = clock.now()
            count += 1
    return count
