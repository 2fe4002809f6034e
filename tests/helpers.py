"""Plain helper functions for tests: CSRF-aware form posts and signing in."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.fixtures_users import PASSWORD

CSRF_RE = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token from a rendered form."""
    match = CSRF_RE.search(html) or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def submit(client: FlaskClient, url: str, data: dict[str, Any], *, follow: bool = False,
           form_url: str | None = None) -> TestResponse:
    """GET the form page, take its CSRF token, POST the data (as a browser would)."""
    page = client.get(form_url or url)
    token = csrf_token(page.get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token}, follow_redirects=follow)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> TestResponse:
    """Sign in through the real form."""
    return submit(client, "/sign-in", {"email": email, "password": password})


def text_of(response: TestResponse) -> str:
    """The response body as text."""
    return response.get_data(as_text=True)


def login_as(client: FlaskClient, user: Any) -> None:
    """Put a signed-in session straight into the server-side store (authorisation tests only:
    the sign-in journey itself is tested through the real forms)."""
    from decision_aid import clock

    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
        session["authenticated_at"] = clock.now().isoformat()
        session["mfa_verified"] = True
