"""Every page's HTML parses with html5lib in strict mode (frontend.md: validate every page).

The same route walk as the browser accessibility scan (tests/browser/routes.py): every GET route
from the route map, as every role allowed to use it, with URL variables filled from seeded data;
a route that cannot be resolved fails. No browser needed: the Flask test client fetches pages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import html5lib
import pytest

from tests.browser.routes import (
    ANONYMOUS,
    PENDING_SIGN_IN,
    RouteCase,
    case_setup,
    resolve,
    route_cases,
    signed_in_client,
    start_pending_sign_in,
)
from tests.browser.server import build_app


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory,
           sqlite_template: Path) -> Iterator[tuple[Any, Any, dict[str, Any]]]:
    app, _clock, world, _port = build_app(tmp_path_factory.mktemp("html"), sqlite_template)
    yield app, world, {}
    from decision_aid.extensions import db

    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


def _strict_errors(html: str) -> list[str]:
    parser = html5lib.HTMLParser(strict=True)
    try:
        parser.parse(html)
    except html5lib.html5parser.ParseError as exc:
        line = str(exc)
        return [line]
    return []


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in route_cases()])
def test_page_html_is_valid(case: RouteCase, seeded: tuple[Any, Any, dict[str, Any]]) -> None:
    app, world, clients = seeded
    if case.role == ANONYMOUS:
        client = signed_in_client(app, world, ANONYMOUS)
    else:  # one signed-in client per role for the module
        if case.role not in clients:
            clients[case.role] = signed_in_client(app, world, case.role)
        client = clients[case.role]
    with case_setup(app, world, case):
        resolved = resolve(app, world, case, client)
        if not resolved.is_html or resolved.url is None:
            return
        if case.role == ANONYMOUS and case.endpoint in PENDING_SIGN_IN:
            start_pending_sign_in(client, world, PENDING_SIGN_IN[case.endpoint])
        html = client.get(resolved.url).get_data(as_text=True)
    errors = _strict_errors(html)
    position = ""
    if errors:
        match = re.search(r"line (\d+)", errors[0])
        if match:
            lines = html.splitlines()
            n = int(match.group(1))
            position = "\n" + "\n".join(lines[max(0, n - 3):n + 1])
    assert not errors, f"{case.id} ({resolved.url}): {errors[0]}{position}"
