"""Browser test fixtures: Debian's Chromium driven by Playwright against a live server.

Without a browser the tests are skipped with one line, except in CI (CI=true), where a missing
browser fails the run. Always SQLite: each test process (xdist worker) has its own live server
with its own SQLite file and seeded data.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.pages import AXE_PATH, CHROMIUM, LAUNCH_ARGS
from tests.browser.server import LiveServer, start_live_server

ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artefacts"
IN_CI = os.environ.get("CI") == "true"
_SKIPPED = pytest.StashKey[int]()


def _browser_problem() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not found (make test installs it when run as root)"
    if not AXE_PATH.exists():
        return f"{AXE_PATH} not found (run npm ci)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without a browser: outside CI the browser tests are left out (one line in the summary);
    in CI the run stops with one line."""
    browser_items = [i for i in items if i.get_closest_marker("browser")]
    if not browser_items:
        return
    problem = _browser_problem()
    if problem is None:
        return
    if IN_CI:
        raise pytest.UsageError(f"browser tests cannot run in CI: {problem}")
    items[:] = [i for i in items if not i.get_closest_marker("browser")]
    config.hook.pytest_deselected(items=browser_items)
    config.stash[_SKIPPED] = len(browser_items)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """The one line (also printed by the xdist controller, which collects nothing itself)."""
    problem = _browser_problem()
    if problem and not IN_CI and _browser_tests_selected(config):
        terminalreporter.write_line(f"browser tests skipped: {problem}", yellow=True, bold=True)


def _browser_tests_selected(config: pytest.Config) -> bool:
    args = [str(a) for a in config.args] or ["tests"]
    return any("tests/browser" in a or a.rstrip("/") in {"tests", "."} for a in args)


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance: Any) -> Iterator[Any]:
    """Debian's Chromium (never a downloaded one)."""
    try:
        instance = playwright_instance.chromium.launch(
            executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
    except Exception as exc:
        line = f"{CHROMIUM} failed to launch: {str(exc).splitlines()[0]}"
        if IN_CI:
            pytest.fail(f"browser tests cannot run in CI: {line}", pytrace=False)
        pytest.skip(f"browser tests skipped: {line}")
    yield instance
    instance.close()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory,
                sqlite_template: Path) -> Iterator[LiveServer]:
    """One live server per test process on 127.0.0.1, with the seeded world (its SQLite file is
    a copy of the process's migrated template from tests/conftest.py)."""
    server = start_live_server(tmp_path_factory.mktemp("live"), template=sqlite_template)
    yield server
    server.stop()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh browser profile per test (cookies and storage start empty)."""
    ctx = browser.new_context(viewport={"width": 1024, "height": 768}, locale="en-GB")
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """test-artefacts/screenshots (ignored by git) for people to look at."""
    folder = ARTEFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
