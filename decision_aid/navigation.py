"""Service navigation: each area registers its links with the roles that may see them."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, request, url_for
from flask_login import current_user
from markupsafe import Markup


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


_HeaderKey = tuple[str, str, tuple[tuple[str, str, bool], ...]]
_HEADER_CACHE = "decision_aid.service_header"
_GENERIC_HEADER = "govuk_frontend_jinja/components/generic-header/macro.html"
_SERVICE_NAVIGATION = "govuk_frontend_jinja/components/service-navigation/macro.html"


def _header_cache() -> Callable[[_HeaderKey], Markup]:
    """This app's small LRU of rendered page headers (one per app: tests build many apps)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cache = app.extensions.get(_HEADER_CACHE)
    if cache is None:
        env = app.jinja_env

        def render(key: _HeaderKey) -> Markup:
            logo_text, home, links = key
            header = env.get_template(_GENERIC_HEADER).module.govukGenericHeader(
                {"logoText": logo_text, "url": home})
            navigation = env.get_template(_SERVICE_NAVIGATION).module.govukServiceNavigation(
                {"serviceName": "Data-sharing decision aid", "serviceUrl": home,
                 "navigation": [{"href": href, "text": text, "active": active}
                                for href, text, active in links],
                 "navigationClasses": ""})
            return Markup("\n  ").join((header, navigation))

        cache = app.extensions[_HEADER_CACHE] = functools.lru_cache(maxsize=64)(render)
    return cache


def service_header(logo_text: str) -> Markup:
    """The GOV.UK header and service navigation of templates/layouts/base.html (quality target T22).

    The two macros cost several per cent of every page's CPU yet depend only on the organisation
    name, the home URL and the user's links (role and current page), so their HTML is kept in a
    bounded per-app LRU keyed by exactly those; the links are still worked out per request.
    """
    links = tuple((str(i["href"]), str(i["text"]), bool(i["active"])) for i in nav_items())
    return _header_cache()((logo_text, url_for("main.home"), links))


def init_navigation(app: Flask) -> None:
    """Make nav_items() and service_header() available to every template."""
    app.add_template_global(nav_items, "nav_items")
    app.add_template_global(service_header, "service_header")
