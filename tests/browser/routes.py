"""The route walk: every GET route of the app, for every role allowed to use it, with its URL
variables filled in from the seeded world.

Collection (`route_cases`) reads `app.url_map` and each view's declared access, so a page added
later is scanned without anyone editing a list. Resolution (`resolve`) turns a case into a URL by
trying the seeded objects that fit each variable; a route whose variables cannot be filled, or
that never answers 200, FAILS with a message saying what to add here. Nothing is skipped
silently: the only routes not scanned are non-HTML responses (decided by Content-Type at run
time) and the few listed below with a reason.
"""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.browser.world import UNREACHABLE_QUESTIONS, World

ANONYMOUS = "anonymous"
DEFAULT_CASE_REF = "CASE-20431"  # tests.fixtures_decisions' case reference for seeded decisions
ROLE_USER = {"practitioner": "practitioner", "supervisor": "supervisor", "dpo": "dpo", "admin": "admin"}

# Endpoints that only ever redirect (to a page the walk scans under its own route).
REDIRECT_ONLY: dict[str, str] = {
    "wizard.resume": "sends the user to where the draft was left",
}
# Endpoints switched off in the test configuration: checked to answer 404, nothing to scan.
NOT_CONFIGURED: dict[str, str] = {
    "auth.sso_callback": "single sign-on is not configured in tests (OIDC_* settings unset)",
}
# Public endpoints whose anonymous GET redirects by design.
ANONYMOUS_REDIRECTS: dict[str, str] = {
    "main.home": "signed out, the home page is the sign-in page",
}
# Public endpoints that need a half-signed-in session first: endpoint -> seeded user name.
PENDING_SIGN_IN: dict[str, str] = {
    "auth.two_factor": "practitioner2",
    "auth.recovery_code": "practitioner2",
    "auth.set_up_two_factor": "enrolee",
}
# Query strings tried when the bare URL does not answer 200 (pages about one case, etc.).
QUERY_VARIANTS: list[dict[str, str]] = [{"case_ref": DEFAULT_CASE_REF}]
# Where pages needing a recent password (and code) send the user first.
STEP_UP_PATH = "/account/reauthenticate"
# URL variables whose values are a fixed set known at collection time: one case per value.
ENUMERATED: dict[str, Callable[[Flask], list[str]]] = {
    "question_id": lambda app: [q.id for q in app.extensions["ruleset"].questions
                                if q.origin == "practitioner"],
}


@dataclass(frozen=True)
class RouteCase:
    """One page to visit: an endpoint as one role, with any enumerated variables fixed."""

    endpoint: str
    rule: str
    role: str
    public: bool
    fixed: tuple[tuple[str, str], ...] = ()
    variables: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        extra = "".join(f"[{v}]" for _, v in self.fixed)
        return f"{self.role}:{self.endpoint}{extra}"

    @property
    def slug(self) -> str:
        return self.id.replace(":", "__").replace("[", "--").replace("]", "").replace(".", "_")


@dataclass
class Resolved:
    """The outcome of resolving a case: a URL to scan, or why there is nothing to scan."""

    case: RouteCase
    url: str | None = None
    content_type: str = ""
    status: int = 0
    note: str = ""
    tried: list[str] = field(default_factory=list)

    @property
    def is_html(self) -> bool:
        return self.status == 200 and self.content_type.startswith("text/html")


@functools.cache
def collection_app() -> Flask:
    """An app built only to read its route map (it never touches the database)."""
    from decision_aid import create_app
    from tests.conftest import TEST_SECRET

    return create_app({"DEPLOYMENT": "test", "SECRET_KEY": TEST_SECRET,
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path('/nonexistent/collect.sqlite3')}"})


def route_cases(app: Flask | None = None, roles: Iterable[str] | None = None) -> list[RouteCase]:
    """Every GET route x every role that may use it (public routes: anonymous and every role)."""
    from decision_aid.auth.access import PUBLIC, access_of
    from decision_aid.models import Role

    app = app or collection_app()
    all_roles = [r.value for r in Role]
    cases: list[RouteCase] = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        access = access_of(app.view_functions[rule.endpoint])
        if access is None:
            raise AssertionError(f"{rule.endpoint} declares no access (use @public or @roles)")
        is_public = access == PUBLIC
        who = [ANONYMOUS, *all_roles] if is_public else sorted(r.value for r in access)  # type: ignore[union-attr]
        enumerated = [a for a in sorted(rule.arguments) if a in ENUMERATED]
        variables = tuple(sorted(a for a in rule.arguments if a not in ENUMERATED))
        fixed_sets: list[tuple[tuple[str, str], ...]] = [()]
        for name in enumerated:
            fixed_sets = [(*f, (name, v)) for f in fixed_sets for v in ENUMERATED[name](app)]
        for role in who:
            if roles is not None and role not in roles:
                continue
            for fixed in fixed_sets:
                cases.append(RouteCase(rule.endpoint, rule.rule, role, is_public, fixed, variables))
    return cases


def candidates(world: World, case: RouteCase, name: str) -> list[Any]:
    """Seeded values that may fit URL variable `name` for this case, best first."""
    fixed = dict(case.fixed)
    role = case.role
    if name == "draft_id":
        per_question = world.question_drafts.get(role, {})
        first = [per_question[fixed["question_id"]]] if fixed.get("question_id") in per_question else []
        return first + world.drafts.get(role, [])
    if name == "decision_id":
        own = world.own_decisions.get(role, [])
        return own + [d for d in world.decisions if d not in own]
    if name == "case_ref":
        return [DEFAULT_CASE_REF]
    if name == "user_id":
        return [world.users["practitioner"].id, world.users["supervisor"].id]
    raise KeyError(name)


def resolve(app: Flask, world: World, case: RouteCase,  # noqa: C901 - one rule per branch
            client: FlaskClient) -> Resolved:
    """Find a URL for the case that answers 200 to `client` (signed in as the case's role)."""
    from flask import url_for

    result = Resolved(case)
    options: list[dict[str, Any]] = [dict(case.fixed)]
    for name in case.variables:
        try:
            values = candidates(world, case, name)
        except KeyError:
            raise AssertionError(
                f"{case.id}: no seeded value for URL variable <{name}> in {case.rule}; "
                f"add it to tests/browser/routes.py candidates() (and tests/browser/world.py)") from None
        options = [{**o, name: v} for o in options for v in values]
    with app.test_request_context("/"):
        urls = [url_for(case.endpoint, **o) for o in options]
        # Pages that take their subject from the query string (?case_ref=...) come second.
        urls += [url_for(case.endpoint, **o, **q) for q in QUERY_VARIANTS for o in options]
    seen_redirect = None
    for url in urls:
        if case.endpoint in PENDING_SIGN_IN and case.role == ANONYMOUS:
            start_pending_sign_in(client, world, PENDING_SIGN_IN[case.endpoint])
        response = client.get(url)
        if response.status_code in (301, 302, 303) and response.headers.get(
                "Location", "").split("?")[0].endswith(STEP_UP_PATH):
            mark_stepped_up(client)  # sensitive page: the browser steps up through the form
            response = client.get(url)
        result.tried.append(f"{url} -> {response.status_code}")
        if response.status_code == 200:
            result.url, result.status = url, 200
            result.content_type = response.headers.get("Content-Type", "")
            return result
        if 300 <= response.status_code < 400:
            seen_redirect = seen_redirect or url
    if case.endpoint in REDIRECT_ONLY and seen_redirect:
        result.note = f"redirect only: {REDIRECT_ONLY[case.endpoint]}"
        result.status = 302
        return result
    if case.endpoint in NOT_CONFIGURED and all(t.endswith("-> 404") for t in result.tried):
        result.note = f"not configured: {NOT_CONFIGURED[case.endpoint]}"
        result.status = 404
        return result
    question = dict(case.fixed).get("question_id")
    if question in UNREACHABLE_QUESTIONS and seen_redirect and len(result.tried) == len(urls):
        result.note = f"question never shown: {UNREACHABLE_QUESTIONS[question]}"
        result.status = 302
        return result
    if case.role == ANONYMOUS and case.endpoint in ANONYMOUS_REDIRECTS and seen_redirect:
        result.note = f"redirects when signed out: {ANONYMOUS_REDIRECTS[case.endpoint]}"
        result.status = 302
        return result
    if case.public and case.role != ANONYMOUS and seen_redirect:
        result.note = "public page that redirects signed-in users"
        result.status = 302
        return result
    raise AssertionError(
        f"{case.id}: no URL for {case.rule} answered 200 as {case.role}; tried "
        + "; ".join(result.tried[:8])
        + ". Seed an object that fits in tests/browser/world.py or explain the route in "
          "tests/browser/routes.py")


def start_pending_sign_in(client: FlaskClient, world: World, user_name: str) -> None:
    """Password step only, so the second-factor pages have a half-signed-in session."""
    from tests.fixtures_users import PASSWORD
    from tests.helpers import submit

    response = submit(client, "/sign-in", {"email": world.users[user_name].email, "password": PASSWORD})
    assert response.status_code == 302, f"password step for {user_name} failed: {response.status_code}"


def signed_in_client(app: Flask, world: World, role: str) -> FlaskClient:
    """A test client signed in as the seeded user of `role` (anonymous: not signed in)."""
    from tests.helpers import login_as

    client = app.test_client()
    if role != ANONYMOUS:
        user = _user_obj(app, world.users[ROLE_USER[role]].id)
        login_as(client, user)
    return client


def _user_obj(app: Flask, user_id: uuid.UUID) -> Any:
    from decision_aid.extensions import db
    from decision_aid.models import User

    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        db.session.expunge(user)
        return user


@contextlib.contextmanager
def case_setup(app: Flask, world: World, case: RouteCase) -> Iterator[None]:
    """Anything a case needs for its duration: today, a question asked only of another kind of
    organisation is shown with the organisation's type switched (and switched back after)."""
    org_type = world.question_org_type.get(dict(case.fixed).get("question_id", ""))
    if org_type is None:
        yield
        return
    from decision_aid.extensions import db
    from decision_aid.models import Organisation

    with app.app_context():
        org = db.session.scalars(db.select(Organisation)).first()
        assert org is not None
        original, org.org_type = org.org_type, org_type
        db.session.commit()
    try:
        yield
    finally:
        with app.app_context():
            org = db.session.scalars(db.select(Organisation)).first()
            assert org is not None
            org.org_type = original
            db.session.commit()


def mark_stepped_up(client: FlaskClient) -> None:
    """As if the user had just re-entered their password and code (test client probes only)."""
    from decision_aid import clock

    with client.session_transaction() as session:
        session["reauthenticated_at"] = clock.now().isoformat()
