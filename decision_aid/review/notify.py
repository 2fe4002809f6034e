"""Notifications: counts on every page for supervisors, and an optional reminder email.

The email says only how many decisions are waiting and links to the queue: no case reference,
no decision details, because email leaves the organisation's control. It is sent by
`flask review notify` (run it from a scheduler, e.g. each morning), which is simpler to operate
and to test than sending from inside a practitioner's submit request.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from typing import Any

from flask import current_app, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from decision_aid.extensions import db
from decision_aid.models import Role, User
from decision_aid.review import queue
from decision_aid.review.service import scope_for

log = logging.getLogger(__name__)


def review_counts_context() -> dict[str, Any]:
    """Context processor: `review_counts` for signed-in supervisors, nothing for anyone else."""
    try:
        if not (current_user and current_user.is_authenticated and current_user.has_role(Role.SUPERVISOR)):
            return {}
        return {"review_counts": queue.counts(scope_for(current_user))}
    except SQLAlchemyError:  # the 503 page must still render when the database is away
        db.session.rollback()
        return {}


def message_for(user: User, awaiting: int, link: str) -> EmailMessage:
    """The reminder: a count and a link, deliberately nothing else."""
    message = EmailMessage()
    message["From"] = str(current_app.config.get("SMTP_FROM") or "no-reply@localhost")
    message["To"] = user.email
    noun = "decision is" if awaiting == 1 else "decisions are"
    message["Subject"] = f"{awaiting} {noun} awaiting your review"
    message.set_content(
        f"{awaiting} {noun} awaiting your review.\n\nSign in to see them: {link}\n\n"
        "This email does not contain any case details.\n"
    )
    return message


def queue_link() -> str:
    """Absolute link to the queue; outside a request it needs SERVER_NAME (or PUBLIC_BASE_URL)."""
    try:
        return url_for("review.queue", _external=True)
    except RuntimeError:
        return str(current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/") + "/review"


def pending_messages() -> list[EmailMessage]:
    """One message per active supervisor with decisions awaiting review."""
    link = queue_link()
    supervisors = db.session.scalars(
        select(User).where(User.role == Role.SUPERVISOR.value, User.active.is_(True)).order_by(User.email))
    messages = []
    for user in supervisors:
        awaiting = queue.counts(scope_for(user))["awaiting"]
        if awaiting:
            messages.append(message_for(user, awaiting, link))
    return messages


def send_reminders() -> int:
    """Send the reminders through SMTP_HOST:SMTP_PORT; returns how many were sent (0 if no SMTP)."""
    host = current_app.config.get("SMTP_HOST")
    if not host:
        return 0
    port = int(current_app.config.get("SMTP_PORT") or 25)
    messages = pending_messages()
    if not messages:
        return 0
    with smtplib.SMTP(host, port, timeout=10) as smtp:
        for message in messages:
            smtp.send_message(message)
    log.info("review reminders sent: %d", len(messages))
    return len(messages)
