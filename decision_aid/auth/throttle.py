"""Sign-in throttling counted in the database, so every app process sees the same count.

Failures are keyed by a hash of the e-mail address given, whether or not an account exists,
so throttling behaves the same for real and invented accounts (no account enumeration).
"""

from __future__ import annotations

import datetime as dt
import hashlib

from flask import current_app
from sqlalchemy import func, select

from decision_aid import clock
from decision_aid.extensions import db
from decision_aid.models import SignInFailure


def account_key(email: str) -> str:
    """Key failures by a keyed hash of the normalised address, never the address itself."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hashlib.sha256(secret + b"|" + email.strip().lower().encode()).hexdigest()


def _window_start() -> dt.datetime:
    return clock.now() - dt.timedelta(minutes=int(current_app.config["SIGN_IN_WINDOW_MINUTES"]))


def is_locked(email: str) -> bool:
    """True when the address has had too many recent failures."""
    count = db.session.scalar(
        select(func.count(SignInFailure.id)).where(
            SignInFailure.account_key == account_key(email), SignInFailure.at >= _window_start()
        )
    )
    return int(count or 0) >= int(current_app.config["SIGN_IN_MAX_FAILURES"])


def record_failure(email: str) -> None:
    """Count one failure (the caller commits)."""
    db.session.add(SignInFailure(account_key=account_key(email), at=clock.now()))


def clear_failures(email: str) -> None:
    """A successful sign-in clears the count."""
    db.session.execute(
        db.delete(SignInFailure).where(SignInFailure.account_key == account_key(email))
    )
