"""Keyboard-only use of the wizard, and reflow at 320 CSS pixels (WCAG 2.1.1, 1.4.10)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import pages
from tests.browser.routes import ANONYMOUS, resolve, route_cases, signed_in_client
from tests.browser.server import LiveServer
from tests.fixtures_decisions import BASE_FACTS

pytestmark = pytest.mark.browser


def _tab_to(page: Any, check: str, arg: Any = None, limit: int = 80) -> None:
    """Press Tab until the focused element satisfies the JS predicate `check`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(arg) => {{ const el = document.activeElement; return !!({check}); }}", arg):
            return
    raise AssertionError(f"Tab never reached an element where {check} ({arg})")


def _choose(page: Any, name: str, value: str) -> None:
    """Tab into a radio group, move with the arrow keys to the value, select it with Space."""
    _tab_to(page, "el.type === 'radio' && el.name === arg", name)
    for _ in range(20):
        if page.evaluate("() => document.activeElement.value") == value:
            break
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    assert page.evaluate("() => document.activeElement.checked"), f"{name}={value} not selected"


def _press_submit(page: Any) -> None:
    _tab_to(page, "el.closest('#main-content form[method=post]') && "
                  "(el.type === 'submit' || el.tagName === 'BUTTON')")
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _follow(page: Any, text: str) -> None:
    _tab_to(page, "el.closest('#main-content') && el.textContent.trim() === arg", text)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_wizard_keyboard_only_reaches_a_submitted_decision(page: Any, live_server: LiveServer) -> None:
    pages.sign_in(page, live_server, "practitioner2")
    page.goto(live_server("/decisions/new"))
    _tab_to(page, "el.name === 'case_ref'")
    page.keyboard.type("CASE-42001")
    _press_submit(page)
    preset = {**BASE_FACTS, "immediate_risk": False}
    for _ in range(40):
        if "/questions/" not in page.url:
            break
        names = page.evaluate("() => [...new Set([...document.querySelectorAll("
                              "'#main-content form input[type=radio]')].map(r => r.name))]")
        for name in names:
            values = page.evaluate("(n) => [...document.getElementsByName(n)].map(r => r.value)", name)
            wanted = pages._form_value(preset[name]) if name in preset else values[0]
            _choose(page, name, wanted if wanted in values else values[0])
        _press_submit(page)
    assert "/check-your-answers" in page.url, page.url
    _follow(page, "See the recommendation")
    _follow(page, "Record your decision")
    # First a failed submit: the error summary must take focus.
    _press_submit(page)
    assert pages.focus_in_error_summary(page), "the error summary did not receive focus"
    _choose(page, "outcome", "do_not_share")
    _choose(page, "person_told", "yes")
    _tab_to(page, "el.name === 'reasons'")
    page.keyboard.type("Not necessary: the recipient already knows.")
    _press_submit(page)
    assert "/confirmation" in page.url, page.url


REFLOW_ROLES = ("anonymous", "practitioner", "supervisor", "dpo", "admin")

# Pages known to scroll sideways at 320 px, each reported to its owner: endpoint -> reason.
# Strict: a listed page that reflows fails the test until it is removed from this list.
# Empty since the scroll regions became positioned (visually hidden text escaped them).
KNOWN_REFLOW_FAILURES: dict[str, str] = {}


def _widest(page: Any) -> str:
    """The innermost elements that stick out past the viewport, for the failure message."""
    return ", ".join(page.evaluate("""() => { const out = []; const w = innerWidth;
        for (const el of document.querySelectorAll('body *')) {
          const r = el.getBoundingClientRect();
          if (r.right > w + 1 && ![...el.children].some(c => c.getBoundingClientRect().right > w + 1))
            out.push(el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ')[0] : ''));
        }
        return [...new Set(out)].slice(0, 3); }"""))


@pytest.mark.parametrize("role", REFLOW_ROLES)
def test_pages_reflow_at_320_css_pixels(browser: Any, live_server: LiveServer, role: str,
                                        screenshots: Any) -> None:
    """Every page the role can open (from the route map), at 320 px: no horizontal scrolling."""
    ctx = browser.new_context(viewport={"width": 320, "height": 640}, locale="en-GB")
    try:
        page = ctx.new_page()
        if role != ANONYMOUS:
            pages.sign_in(page, live_server, role)
        client = signed_in_client(live_server.app, live_server.world, role)
        problems = []
        seen = set()
        for case in route_cases(roles=[role]):
            if case.endpoint in seen or (case.endpoint.startswith("auth.") and role != ANONYMOUS):
                continue
            seen.add(case.endpoint)  # one URL per endpoint: question pages share a template
            resolved = resolve(live_server.app, live_server.world, case, client)
            if not resolved.is_html or resolved.url is None or case.endpoint in (
                    "auth.two_factor", "auth.recovery_code", "auth.set_up_two_factor"):
                continue
            page.goto(live_server(resolved.url))
            overflow = pages.horizontal_overflow(page)
            known = case.endpoint in KNOWN_REFLOW_FAILURES
            if overflow > 0 and not known:
                problems.append(f"{case.endpoint} {resolved.url}: {overflow}px too wide ({_widest(page)})")
                pages.screenshot(page, screenshots / "reflow-320", case.slug)
            elif overflow <= 0 and known:
                problems.append(f"{case.endpoint} now reflows: remove it from KNOWN_REFLOW_FAILURES")
        assert not problems, "pages scroll horizontally at 320 CSS px:\n" + "\n".join(problems)
    finally:
        ctx.close()
