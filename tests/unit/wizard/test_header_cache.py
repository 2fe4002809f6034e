"""service_header() renders exactly what base.html's GOV.UK header macros rendered (quality target T22)."""

from __future__ import annotations

import pytest
from flask import Flask, render_template_string

from decision_aid import navigation

MACROS = """\
{% from "govuk_frontend_jinja/components/generic-header/macro.html" import govukGenericHeader %}
{% from "govuk_frontend_jinja/components/service-navigation/macro.html" import govukServiceNavigation %}
  <header class="govuk-template__header">
  {{ govukGenericHeader({
    'logoText': org_display_name,
    'url': url_for('main.home'),
  }) }}
  {{ govukServiceNavigation({
    'serviceName': 'Data-sharing decision aid',
    'serviceUrl': url_for('main.home'),
    'navigation': nav_items(),
    'navigationClasses': '',
  }) }}
  </header>
"""
CACHED = """\
  <header class="govuk-template__header">
  {{ service_header(org_display_name) }}
  </header>
"""
LINK_SETS = [
    [],
    [{"href": "/decisions", "text": "Your decisions", "active": True}],
    [{"href": "/decisions", "text": "Your decisions", "active": False},
     {"href": "/review", "text": "Review <&> \"quotes\"", "active": True}],
]


@pytest.mark.parametrize("links", LINK_SETS)
def test_cached_header_matches_the_macros(app: Flask, monkeypatch: pytest.MonkeyPatch,
                                          links: list[dict[str, object]]) -> None:
    monkeypatch.setattr(navigation, "nav_items", lambda: links)
    app.jinja_env.globals["nav_items"] = lambda: links
    with app.test_request_context("/decisions"):
        for org_name in ("Northshire <Council> & Partners", "Other org"):
            expected = render_template_string(MACROS, org_display_name=org_name)
            cold = render_template_string(CACHED, org_display_name=org_name)
            warm = render_template_string(CACHED, org_display_name=org_name)
            assert expected == cold == warm
            assert "&lt;Council&gt;" in expected or org_name == "Other org"
