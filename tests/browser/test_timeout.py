"""The idle-timeout warning (WCAG 2.2.1; quality target T32): with a 3-minute idle timeout, an
alertdialog appears before expiry, takes focus, is announced, passes axe, and "Stay signed in"
extends the session on the server; doing nothing ends at the signed-out page.

The browser's timers run on Playwright's fake clock; the server's on the live server's clock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import pages
from tests.browser.server import LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture
def short_timeout(live_server: LiveServer) -> Iterator[LiveServer]:
    config = live_server.app.config
    before = config["IDLE_TIMEOUT_MINUTES"]
    config["IDLE_TIMEOUT_MINUTES"] = 3
    yield live_server
    config["IDLE_TIMEOUT_MINUTES"] = before


def _last_seen(server: LiveServer, context: Any) -> Any:
    from decision_aid.auth.sessions import token_key
    from decision_aid.extensions import db
    from decision_aid.models import WebSession

    name = server.app.config["SESSION_COOKIE_NAME"]
    token = next(c["value"] for c in context.cookies() if c["name"] == name)
    with server.app.app_context():
        row = db.session.get(WebSession, token_key(token))
        assert row is not None
        return row.last_seen_at


def test_warning_is_announced_and_stay_signed_in_extends_the_server_session(
        context: Any, short_timeout: LiveServer, screenshots: Any) -> None:
    server = short_timeout
    page = context.new_page()
    page.clock.install()
    pages.sign_in(page, server, "practitioner")
    page.goto(server("/decisions"))
    dialog = page.locator("[role=alertdialog]")
    assert dialog.is_hidden()
    page.clock.fast_forward("01:05")  # 3 min timeout, warning 2 min before expiry
    dialog.wait_for(state="visible")
    assert page.evaluate("() => document.activeElement.getAttribute('role')") == "alertdialog"
    labelled = page.evaluate("""() => { const d = document.querySelector('[role=alertdialog]');
        const l = document.getElementById(d.getAttribute('aria-labelledby'));
        const t = document.getElementById(d.getAttribute('aria-describedby'));
        return [l && l.textContent.trim(), t && t.textContent.trim()]; }""")
    assert labelled[0] and labelled[1], f"dialog is not labelled and described: {labelled}"
    pages.assert_no_violations(page, "idle-timeout warning open")
    pages.screenshot(page, screenshots / "states", "timeout-warning")

    server.clock.advance(minutes=2)  # the server has seen nothing for 2 of its 3 minutes
    before = _last_seen(server, context)
    with page.expect_response(lambda r: r.url.endswith("/account/keep-alive")) as info:
        page.get_by_role("button", name="Stay signed in").click()
    assert info.value.status == 204
    dialog.wait_for(state="hidden")
    assert _last_seen(server, context) > before, "keep-alive did not touch the server session"

    server.clock.advance(minutes=2)  # 4 min after sign-in: past the original expiry
    response = page.goto(server("/decisions"))
    assert response is not None and response.status == 200
    assert "/sign-in" not in page.url, "the session was not extended on the server"


def test_doing_nothing_signs_out(context: Any, short_timeout: LiveServer) -> None:
    server = short_timeout
    page = context.new_page()
    page.clock.install()
    pages.sign_in(page, server, "practitioner")
    page.goto(server("/decisions"))
    server.clock.advance(minutes=4)
    with page.expect_navigation():
        page.clock.fast_forward("03:01")
    assert "/signed-out" in page.url, page.url
    page.goto(server("/decisions"))
    assert "/sign-in" in page.url, "the server session outlived the idle timeout"


def test_focus_stays_in_the_warning(context: Any, short_timeout: LiveServer) -> None:
    server = short_timeout
    page = context.new_page()
    page.clock.install()
    pages.sign_in(page, server, "practitioner")
    page.goto(server("/decisions"))
    page.clock.fast_forward("01:05")
    page.locator("[role=alertdialog]").wait_for(state="visible")
    for _ in range(4):
        page.keyboard.press("Tab")
        inside = page.evaluate("() => !!document.activeElement.closest('[role=alertdialog]')")
        assert inside, "Tab moved focus out of the timeout warning"
