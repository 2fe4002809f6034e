"""Jinja set-up: our templates first, then the GOV.UK macros (the LandRegistry arrangement)."""

from __future__ import annotations

from typing import Any

from flask import Flask, g
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader, Undefined

from decision_aid import clock


class PrintingFailsUndefined(Undefined):
    """Undefined that may be tested (`if x`, `x | default`) but not printed.

    StrictUndefined would also fail GOV.UK's base template, which tests optional variables.
    """

    def __str__(self) -> str:
        self._fail_with_undefined_error()
        return ""  # pragma: no cover


def init_templates(app: Flask) -> None:
    """Loader, strictness, helpers and globals shared by every page."""
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(app.template_folder or "templates"),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    if app.config["DEPLOYMENT"] in {"development", "test"}:
        app.jinja_env.undefined = PrintingFailsUndefined  # a misspelt variable fails a test
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    WTFormsHelpers(app)
    app.context_processor(_page_globals)
    app.add_template_filter(_format_datetime, "datetime")
    app.add_template_filter(_format_date, "date")
    from decision_aid.navigation import init_navigation

    init_navigation(app)


def _page_globals() -> dict[str, Any]:
    """Values every layout needs: the CSP nonce, organisation name, and the clock."""
    return {
        "csp_nonce": g.get("csp_nonce", ""),
        "org_display_name": _org_name(),
        "now_utc": clock.now(),
    }


def _org_name() -> str:
    from flask import current_app

    from decision_aid.organisation import current_organisation

    org = current_organisation(required=False)
    return org.name if org else str(current_app.config["ORG_NAME"])


def _format_datetime(value: Any) -> str:
    """UTC times shown with their zone, never ambiguous on a printed record."""
    return value.strftime("%d %B %Y at %H:%M UTC") if value else ""


def _format_date(value: Any) -> str:
    return value.strftime("%d %B %Y").lstrip("0") if value else ""
