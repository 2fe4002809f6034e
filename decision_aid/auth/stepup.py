"""Step-up authentication: sensitive actions need a password (and code) entered in the last minutes.

Put `@recent_auth_required()` *under* `@roles(...)` on a route (bulk export, sign-in settings):

    @bp.route("/export", methods=["GET", "POST"])
    @roles(Role.DPO)
    @recent_auth_required(max_age_minutes=5)
    def export(): ...

A stolen or unattended session then cannot perform the action without the user's secrets.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import redirect, request, session, url_for

from decision_aid import clock

F = TypeVar("F", bound=Callable[..., Any])
REAUTHENTICATED_AT = "reauthenticated_at"


def reauthenticated_within(max_age: dt.timedelta) -> bool:
    """True when this session re-entered its credentials within `max_age`."""
    raw = session.get(REAUTHENTICATED_AT)
    if not raw:
        return False
    try:
        at = dt.datetime.fromisoformat(raw)
    except ValueError:
        return False
    return dt.timedelta(0) <= clock.now() - at <= max_age


def mark_reauthenticated() -> None:
    """Record a successful step-up in the server-side session."""
    session[REAUTHENTICATED_AT] = clock.now().isoformat()


def recent_auth_required(max_age_minutes: int = 5) -> Callable[[F], F]:
    """Redirect to /account/reauthenticate?next=<this page> unless the user stepped up recently."""
    max_age = dt.timedelta(minutes=max_age_minutes)

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not reauthenticated_within(max_age):
                target = request.full_path.rstrip("?") if request.method == "GET" else request.path
                return redirect(url_for("account.reauthenticate", next=target))
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
