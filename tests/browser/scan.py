"""The accessibility walk shared by the test_axe_*.py modules (split by role only so the two
xdist workers share the work; `--dist loadfile` keeps each module on one worker).

For every case from the route map: resolve a URL, load it in a browser signed in as the role,
scan with axe (WCAG 2.0/2.1/2.2 A and AA), save a screenshot, then for each POST form with
fields submit it empty, check the error summary took focus, and scan the error state too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import pages
from tests.browser.routes import (
    ANONYMOUS,
    PENDING_SIGN_IN,
    ROLE_USER,
    STEP_UP_PATH,
    RouteCase,
    case_setup,
    resolve,
    route_cases,
    signed_in_client,
)
from tests.browser.server import LiveServer

# A single check known to fail because of a page this suite does not own: case id (or
# "<case id> (errors)") -> reason. Each is xfail(strict=True), so a fix makes it fail loudly
# until the entry is removed. Keep this short and report every entry to the page's owner.
KNOWN_FAILURES: dict[str, str] = {}

# Pages whose POST form has only optional fields: submitting it empty is a real action (and
# would change the seeded data), not an error state, so it is not submitted. Endpoint -> why.
NO_ERROR_STATE: dict[str, str] = {
    "admin.show_user": "team memberships: none ticked is a valid choice",
    "dpo.export": "the date range is optional; submitting downloads an export",
    "operations.rules_sign_off": "notes are optional; submitting approves the rule set",
}


def params(roles: list[str]) -> list[Any]:
    """pytest params for the cases of these roles, with known failures marked."""
    out = []
    for case in route_cases(roles=roles):
        marks = []
        if case.id in KNOWN_FAILURES:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[case.id]))
        out.append(pytest.param(case, id=case.id, marks=marks))
    return out


class RolePages:
    """One signed-in browser context per role for a whole module (signing in once is enough)."""

    def __init__(self, browser: Any, server: LiveServer) -> None:
        self.browser, self.server = browser, server
        self.contexts: dict[str, Any] = {}
        self.pages: dict[str, Any] = {}
        self.clients: dict[str, Any] = {}

    def page(self, role: str) -> Any:
        if role == ANONYMOUS:
            ctx = self.browser.new_context(viewport={"width": 1024, "height": 768}, locale="en-GB")
            self.contexts.setdefault("anonymous-list", []).append(ctx)  # type: ignore[union-attr]
            return ctx.new_page()
        if role not in self.pages:
            ctx = self.browser.new_context(viewport={"width": 1024, "height": 768}, locale="en-GB")
            ctx.set_default_timeout(15_000)
            self.contexts[role] = ctx
            page = ctx.new_page()
            pages.sign_in(page, self.server, ROLE_USER[role])
            self.pages[role] = page
        return self.pages[role]

    def client(self, role: str) -> Any:
        if role == ANONYMOUS:
            return signed_in_client(self.server.app, self.server.world, ANONYMOUS)
        if role not in self.clients:
            self.clients[role] = signed_in_client(self.server.app, self.server.world, role)
        return self.clients[role]

    def close(self) -> None:
        for ctx in self.contexts.values():
            for c in (ctx if isinstance(ctx, list) else [ctx]):
                c.close()


@pytest.fixture(scope="module")
def role_pages(browser: Any, live_server: LiveServer) -> Iterator[RolePages]:
    holder = RolePages(browser, live_server)
    yield holder
    holder.close()


def scan_case(case: RouteCase, holder: RolePages, screenshots: Path) -> None:
    """The whole check for one route as one role."""
    with case_setup(holder.server.app, holder.server.world, case):
        _scan_case(case, holder, screenshots)


def _scan_case(case: RouteCase, holder: RolePages, screenshots: Path) -> None:
    server = holder.server
    resolved = resolve(server.app, server.world, case, holder.client(case.role))
    if resolved.url is None:
        return  # a redirect-only route, explained in routes.py; its target is scanned itself
    if not resolved.is_html:
        return  # PDF, CSV, JSON, plain text: not a page for axe
    page = holder.page(case.role)
    if case.role == ANONYMOUS and case.endpoint in PENDING_SIGN_IN:
        pages.password_step(page, server, PENDING_SIGN_IN[case.endpoint])
    response = page.goto(server(resolved.url))
    if STEP_UP_PATH in page.url:
        pages.step_up(page, server, ROLE_USER[case.role])
        response = page.goto(server(resolved.url))
    assert response is not None and response.status == 200, (
        f"{case.id}: {resolved.url} answered {response and response.status} in the browser")
    assert page.url.endswith(resolved.url), f"{case.id}: {resolved.url} redirected to {page.url}"
    pages.assert_no_violations(page, f"{case.id} ({resolved.url})")
    pages.screenshot(page, screenshots / case.role, case.slug)

    forms = 0 if case.endpoint in NO_ERROR_STATE else pages.editable_post_forms(page)
    for index in range(forms):
        if index:
            page.goto(server(resolved.url))
            if case.role == ANONYMOUS and case.endpoint in PENDING_SIGN_IN:
                pages.password_step(page, server, PENDING_SIGN_IN[case.endpoint])
                page.goto(server(resolved.url))
        pages.submit_empty(page, index)
        has_summary = page.locator(".govuk-error-summary").count() > 0
        assert has_summary, (
            f"{case.id}: submitting form {index + 1} empty showed no error summary "
            f"(now at {page.url}); if every field is optional, add the endpoint to NO_ERROR_STATE")
        assert page.title().startswith("Error: "), f"{case.id}: error page title lacks 'Error: ' ({page.title()})"
        assert pages.focus_in_error_summary(page), f"{case.id}: the error summary did not receive focus"
        pages.assert_no_violations(page, f"{case.id} ({resolved.url}) with errors from form {index + 1}")
        pages.screenshot(page, screenshots / case.role, f"{case.slug}--errors{index + 1}")
