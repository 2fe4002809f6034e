"""Every route declares who may use it; an architecture test fails on any route that does not.

`@public` marks a route open to anyone. `@roles(...)` requires a signed-in user holding one of
the roles; a signed-in user without the role gets 404, so the existence of pages is not revealed
(object-level checks inside views use the same 404).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user

from decision_aid.models import Role

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC = "public"
ANY_SIGNED_IN = frozenset(Role)


def public(view: F) -> F:
    """Declare a route open to everyone (sign-in page, health check, start page)."""
    view.__access__ = PUBLIC  # type: ignore[attr-defined]
    return view


def roles(*allowed: Role) -> Callable[[F], F]:
    """Declare and enforce the roles that may use a route."""
    allowed_set = frozenset(allowed) or ANY_SIGNED_IN

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                from decision_aid.extensions import login_manager

                return login_manager.unauthorized()
            if not current_user.has_role(*allowed_set):
                abort(404)
            return view(*args, **kwargs)

        wrapper.__access__ = allowed_set  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


signed_in = roles()


def access_of(view: Callable[..., Any]) -> frozenset[Role] | str | None:
    """What a view declared (None when it declared nothing)."""
    return getattr(view, "__access__", None)
