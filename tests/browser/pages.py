"""Browser helpers: launching Chromium, signing in with a TOTP code, axe scans, error states."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from tests.browser.server import LiveServer

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("DECISION_AID_TEST_CHROMIUM", "/usr/bin/chromium")  # Debian chromium
LAUNCH_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
AXE_PATH = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def sign_in(page: Any, server: LiveServer, user_name: str, *, next_path: str | None = None) -> None:
    """Sign in through the real pages: e-mail and password, then a TOTP code computed by pyotp
    from the server's clock (the user was enrolled with tests.fixtures_mfa.KNOWN_SECRET)."""
    from tests.fixtures_mfa import code_for, forget_last_code
    from tests.fixtures_users import PASSWORD

    user = server.world.users[user_name]
    forget_last_code(server.app, user)  # type: ignore[arg-type]
    page.goto(server("/sign-in" + (f"?next={next_path}" if next_path else "")))
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("#main-content form[method=post] [type=submit]")
    if "/sign-in/two-factor" in page.url:
        page.fill("input[name=code]", code_for(server.app))
        with page.expect_navigation():
            page.click("#main-content form[method=post] [type=submit]")
    assert "/sign-in" not in page.url, f"sign-in as {user_name} did not complete: {page.url}"


def step_up(page: Any, server: LiveServer, user_name: str) -> None:
    """On the re-authentication page: password, and a code when asked, then continue."""
    from tests.fixtures_mfa import code_for, forget_last_code
    from tests.fixtures_users import PASSWORD

    forget_last_code(server.app, server.world.users[user_name])  # type: ignore[arg-type]
    page.fill("input[name=password]", PASSWORD)
    if page.locator("input[name=code]").count():
        page.fill("input[name=code]", code_for(server.app))
    with page.expect_navigation():
        page.click("#main-content form[method=post] [type=submit]")
    assert "/account/reauthenticate" not in page.url, f"step-up as {user_name} failed: {page.url}"


def password_step(page: Any, server: LiveServer, user_name: str) -> None:
    """Only the first factor, leaving the browser half-signed-in on the code (or set-up) page."""
    from tests.fixtures_users import PASSWORD

    page.goto(server("/sign-in"))
    page.fill("input[name=email]", server.world.users[user_name].email)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("#main-content form[method=post] [type=submit]")


_AXE_SOURCE: str | None = None


def inject_axe(page: Any) -> None:
    """axe-core from node_modules (never a CDN). The app's CSP forbids inline scripts without its
    nonce, so instead of a <script> tag the file is evaluated through the DevTools protocol,
    which keeps the page's CSP in force for everything else."""
    global _AXE_SOURCE
    if _AXE_SOURCE is None:
        _AXE_SOURCE = AXE_PATH.read_text(encoding="utf-8")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(f"() => {{ {_AXE_SOURCE}\n; window.axe = axe; }}")


def run_axe(page: Any) -> list[dict[str, Any]]:
    """Violations for the WCAG 2.0/2.1/2.2 A and AA tags on the page as it is now."""
    inject_axe(page)
    result = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                               resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
              helpUrl: v.helpUrl, tags: v.tags,
              nodes: v.nodes.map(n => ({target: n.target, html: n.html.slice(0, 300),
                                        summary: n.failureSummary}))}));
        }""", AXE_TAGS)
    return list(result)


def describe(violations: list[dict[str, Any]], where: str) -> str:
    """Readable report of axe violations."""
    lines = [f"{len(violations)} axe violation(s) on {where}:"]
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} [{v['helpUrl']}]")
        for node in v["nodes"][:5]:
            lines.append(f"    at {json.dumps(node['target'])}: {node['html']}")
            if node.get("summary"):
                lines.append("      " + node["summary"].replace("\n", "\n      "))
    return "\n".join(lines)


def assert_no_violations(page: Any, where: str) -> None:
    violations = run_axe(page)
    assert not violations, describe(violations, where)


# Forms that are buttons, not questions: submitting them empty is not an error state.
EDITABLE = ("input:not([type=hidden]):not([type=submit]):not([type=button]):not([type=reset])"
            ", textarea, select")


def editable_post_forms(page: Any) -> int:
    """How many POST forms in the main content have fields a person fills in."""
    return int(page.evaluate(
        """(sel) => [...document.querySelectorAll('#main-content form')]
              .filter(f => (f.getAttribute('method') || '').toLowerCase() === 'post')
              .filter(f => f.querySelector(sel)).length""", EDITABLE))


def submit_empty(page: Any, index: int = 0) -> None:
    """Clear the index-th editable POST form in main content (text, radios, checkboxes) and
    press its submit button, as a person who has filled in nothing would."""
    page.evaluate(
        """([sel, index]) => {
            const forms = [...document.querySelectorAll('#main-content form')]
              .filter(f => (f.getAttribute('method') || '').toLowerCase() === 'post')
              .filter(f => f.querySelector(sel));
            const form = forms[index];
            form.setAttribute('data-test-target', 'yes');
            for (const el of form.querySelectorAll(sel)) {
              if (el.type === 'radio' || el.type === 'checkbox') el.checked = false;
              else if (el.tagName !== 'SELECT') el.value = '';
            }
        }""", [EDITABLE, index])
    button = page.locator("form[data-test-target=yes] button[type=submit], "
                          "form[data-test-target=yes] button:not([type]), "
                          "form[data-test-target=yes] input[type=submit]").first
    with page.expect_navigation():
        button.click()
    page.wait_for_load_state("load")


def focus_in_error_summary(page: Any) -> bool:
    """True when the focused element is (inside) the error summary, waiting briefly for the
    GOV.UK Frontend module to initialise and move focus."""
    try:
        page.wait_for_function(
            "() => !!(document.activeElement && document.activeElement.closest('.govuk-error-summary'))",
            timeout=3000)
        return True
    except Exception:
        return False


def screenshot(page: Any, folder: Path, name: str) -> Path:
    """A full-page PNG for people to look at."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    path = folder / f"{safe}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def horizontal_overflow(page: Any) -> int:
    """How many CSS px the page is wider than the viewport (0 when it reflows)."""
    return int(page.evaluate(
        "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - document.documentElement.clientWidth"))


def _form_value(value: Any) -> str:
    return {True: "yes", False: "no"}.get(value, value) if isinstance(value, bool) else str(value)


def answer_questions(page: Any, preset: dict[str, Any]) -> None:
    """On question pages: pick the preset's answer for each radio group (the first option when
    the preset has none) and continue, until the wizard leaves the questions."""
    for _ in range(40):
        if "/questions/" not in page.url:
            return
        names = page.evaluate(
            "() => [...new Set([...document.querySelectorAll('#main-content form input[type=radio]')]"
            ".map(r => r.name))]")
        for name in names:
            wanted = _form_value(preset[name]) if name in preset else None
            radio = page.locator(f"input[type=radio][name='{name}'][value='{wanted}']")
            if wanted is None or radio.count() == 0:
                radio = page.locator(f"input[type=radio][name='{name}']").first
            radio.check()
        with page.expect_navigation():
            page.click("#main-content form[method=post] [type=submit]")
    raise AssertionError("the wizard did not leave the questions")


def start_decision(page: Any, server: LiveServer, case_ref: str) -> None:
    """New decision: case reference (the date defaults to today), then on to the questions."""
    page.goto(server("/decisions/new"))
    page.fill("input[name=case_ref]", case_ref)
    with page.expect_navigation():
        page.click("#main-content form[method=post] [type=submit]")
