"""Generic error pages that reveal nothing; every 5xx is logged with a correlation id."""

from __future__ import annotations

import logging
import secrets

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from decision_aid.extensions import db

log = logging.getLogger("decision_aid.errors")

PAGES = {
    400: "There is a problem with your request",
    403: "You do not have permission to see this page",
    404: "Page not found",
    405: "That action is not allowed here",
    413: "What you sent is too large",
    429: "Too many requests",
    500: "Sorry, there is a problem with the service",
    503: "Sorry, the service is unavailable",
}


def register_error_handlers(app: Flask) -> None:
    """One handler per family: HTTP errors, CSRF failures, database outages, anything else."""
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(OperationalError, _database_down)
    app.register_error_handler(Exception, _unexpected)


def render_error(code: int, correlation_id: str | None = None) -> tuple[str, int]:
    """The error page for a status code; unknown codes fall back to the 400 or 500 wording."""
    family = code if code in PAGES else (500 if code >= 500 else 400)
    try:
        html = render_template(
            "errors/error.html", code=code, title=PAGES[family], correlation_id=correlation_id
        )
    except Exception:  # the template itself failed: plain text, still generic
        log.exception("error page failed to render")
        html = f"{PAGES[family]} ({code})"
    return html, code


def _http_error(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    if code >= 500:
        return _server_error(error, code)
    return render_error(code)


def _csrf_error(error: CSRFError) -> tuple[str, int]:
    from decision_aid.logs import security_event

    security_event("csrf_failure", outcome="rejected", reason=error.description)
    return render_error(400)


def _database_down(error: OperationalError) -> tuple[str, int]:
    return _server_error(error, ServiceUnavailable.code)


def _unexpected(error: Exception) -> tuple[str, int]:
    if isinstance(error, SQLAlchemyError) and "connect" in str(error).lower():
        return _server_error(error, ServiceUnavailable.code)
    return _server_error(error, InternalServerError.code)


def _server_error(error: BaseException, code: int) -> tuple[str, int]:
    """Roll back, log with a correlation id, and show the id (not the error) to the user."""
    correlation_id = secrets.token_hex(6)
    try:
        db.session.rollback()
    except Exception:  # the database may be the thing that is down
        log.warning("rollback failed after error %s", correlation_id)
    log.error("server error %s", correlation_id, exc_info=error)
    return render_error(code, correlation_id)
