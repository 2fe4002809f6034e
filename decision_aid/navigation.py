"""Service navigation: each area registers its links with the roles that may see them."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, request, url_for
from flask_login import current_user


@dataclass(frozen=True)
class NavLink:
    """One link in the service navigation."""

    text: str
    endpoint: str
    roles: frozenset[str]
    order: int


_LINKS: list[NavLink] = []


def register_nav(text: str, endpoint: str, roles: set[str] | frozenset[str], order: int) -> None:
    """Called by a blueprint module at import; re-registration (tests build many apps) is ignored."""
    link = NavLink(text, endpoint, frozenset(roles), order)
    if link not in _LINKS:
        _LINKS.append(link)
        _LINKS.sort(key=lambda item: item.order)


def nav_items() -> list[dict[str, object]]:
    """Links for the signed-in user's role, in govukServiceNavigation's format."""
    if not current_user.is_authenticated:
        return []
    from flask import current_app

    items: list[dict[str, object]] = []
    for link in _LINKS:
        if current_user.role in link.roles and link.endpoint in current_app.view_functions:
            href = url_for(link.endpoint)
            items.append({"href": href, "text": link.text, "active": request.path == href})
    return items


def init_navigation(app: Flask) -> None:
    """Make nav_items() available to every template."""
    app.add_template_global(nav_items, "nav_items")
