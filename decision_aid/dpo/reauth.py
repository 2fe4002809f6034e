"""Re-authentication before a bulk export.

Uses the MFA area's `decision_aid.auth.stepup.recent_auth_required` when it is installed. Until
then a minimal stand-in applies the same rule: the sign-in (recorded in the server-side session
as `authenticated_at`) must be at most `max_age_minutes` old, otherwise the export is refused
and the DPO is asked to sign in again.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import render_template, session

from decision_aid import clock

F = TypeVar("F", bound=Callable[..., Any])


def signed_in_recently(max_age_minutes: int) -> bool:
    """True when the session's last full sign-in is recent enough."""
    raw = session.get("authenticated_at")
    try:
        when = dt.datetime.fromisoformat(str(raw))
    except ValueError:
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return clock.now() - when <= dt.timedelta(minutes=max_age_minutes)


def _fallback(max_age_minutes: int) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not signed_in_recently(max_age_minutes):
                return render_template("dpo/reauthenticate.html", minutes=max_age_minutes), 401
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def recent_auth_required(max_age_minutes: int = 5) -> Callable[[F], F]:
    """The MFA area's decorator if present, else the stand-in above."""
    try:
        from decision_aid.auth.stepup import recent_auth_required as real
    except ImportError:
        return _fallback(max_age_minutes)
    return real(max_age_minutes=max_age_minutes)  # type: ignore[no-any-return]
