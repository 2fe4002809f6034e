"""Architecture tests over the URL map: every route declares its access, paths are kebab-case,
variable segments are typed; and a role-by-route matrix for routes without object ids."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from decision_aid.auth.access import PUBLIC, access_of
from decision_aid.models import Role
from tests.fixtures_users import MakeUser
from tests.helpers import login_as

ALLOWED_UNDECLARED = {"static"}
ALLOWED_CONVERTERS = {"uuid", "int", "question_id"}
SEGMENT = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*(\.pdf|\.json|\.csv)?$")


def rules_of(app: Flask) -> list:
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint not in ALLOWED_UNDECLARED]


def test_every_route_declares_who_may_use_it(app: Flask) -> None:
    undeclared = [r.endpoint for r in rules_of(app) if access_of(app.view_functions[r.endpoint]) is None]
    assert undeclared == []


def test_fixed_segments_are_lower_case_kebab_case(app: Flask) -> None:
    bad = []
    for rule in rules_of(app):
        for segment in rule.rule.strip("/").split("/"):
            if segment and not segment.startswith("<") and not SEGMENT.match(segment):
                bad.append(rule.rule)
    assert bad == []


def test_variable_segments_use_typed_converters(app: Flask) -> None:
    bad = []
    for rule in rules_of(app):
        for converter, _, _ in _converters(rule.rule):
            if converter not in ALLOWED_CONVERTERS:
                bad.append(rule.rule)
    assert bad == []


def _converters(path: str) -> list[tuple[str, str, str]]:
    found = []
    for match in re.finditer(r"<(?:([a-z_]+)(?:\([^)]*\))?:)?([a-z_]+)>", path):
        found.append((match.group(1) or "default", match.group(2), path))
    return found


def parameterless_get_rules(app: Flask) -> list[tuple[str, str, object]]:
    out = []
    for rule in rules_of(app):
        if "GET" in (rule.methods or set()) and not rule.arguments:
            out.append((rule.rule, rule.endpoint, access_of(app.view_functions[rule.endpoint])))
    return out


def expected_status(declared: object, role: str | None) -> set[int]:
    if declared == PUBLIC:
        return {200, 302, 404}  # public pages may redirect signed-in users, or be switched off
    if role is None:
        return {302}
    assert isinstance(declared, frozenset)
    return {200, 302} if Role(role) in declared else {404}


@pytest.mark.parametrize("role", [None, "practitioner", "supervisor", "dpo", "admin"])
def test_role_by_route_matrix(app: Flask, client: FlaskClient, make_user: MakeUser, role: str | None) -> None:
    if role:
        login_as(client, make_user(role=role, teams=["North"]))
    failures = []
    for path, _endpoint, declared in parameterless_get_rules(app):
        status = client.get(path).status_code
        if status not in expected_status(declared, role):
            failures.append((role, path, status))
    assert failures == []


def test_anonymous_is_sent_to_sign_in_not_shown_content(app: Flask, client: FlaskClient) -> None:
    for path, _, declared in parameterless_get_rules(app):
        if declared != PUBLIC:
            response = client.get(path)
            assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
