"""Security headers on every response, and generic error pages that reveal nothing."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError

from tests.helpers import text_of

SENTINEL = "SENTINEL-secret-value-4f1c"


def assert_security_headers(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    csp = headers["Content-Security-Policy"]
    for part in ("default-src 'self'", "object-src 'none'", "base-uri 'none'",
                 "frame-ancestors 'none'", "form-action 'self'"):
        assert part in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"


@pytest.fixture
def failing_app(app: Flask) -> Flask:
    """Routes that fail on purpose, added before the first request."""

    def boom() -> str:
        raise RuntimeError(SENTINEL)

    def db_down() -> str:
        raise OperationalError("SELECT secret FROM t", {}, Exception(SENTINEL))

    boom.__access__ = "public"  # type: ignore[attr-defined]
    db_down.__access__ = "public"  # type: ignore[attr-defined]
    app.add_url_rule("/test-boom", "test_boom", boom)
    app.add_url_rule("/test-db-down", "test_db_down", db_down)
    return app


@pytest.mark.parametrize("path", ["/sign-in", "/healthz", "/no-such-page", "/accessibility"])
def test_headers_on_pages_and_404(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert_security_headers(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_headers_on_405(client: FlaskClient) -> None:
    response = client.delete("/sign-in")
    assert response.status_code == 405
    assert_security_headers(response)


def test_500_is_generic_with_correlation_id(failing_app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    response = failing_app.test_client().get("/test-boom")
    body = text_of(response)
    assert response.status_code == 500
    assert_security_headers(response)
    assert SENTINEL not in body and "Traceback" not in body
    assert "give this reference" in body
    assert any(SENTINEL in (r.exc_text or "") or r.exc_info for r in caplog.records)


def test_database_outage_gives_503_without_sql(failing_app: Flask) -> None:
    response = failing_app.test_client().get("/test-db-down")
    body = text_of(response)
    assert response.status_code == 503
    assert "SELECT" not in body and SENTINEL not in body
    assert "cannot reach its database" in body


def test_unreachable_database_gives_503(tmp_path: object) -> None:
    from decision_aid import create_app

    app = create_app({"DEPLOYMENT": "test", "SECRET_KEY": "k" * 40,
                      "SQLALCHEMY_DATABASE_URI": "sqlite:////nonexistent-dir/for/sure/db.sqlite3"})
    response = app.test_client().get("/sign-in")
    assert response.status_code == 503
    assert app.test_client().get("/healthz").status_code == 503


def test_oversized_request_gets_413(client: FlaskClient) -> None:
    response = client.post("/sign-in", data={"email": "a@example.org", "password": "x" * 70_000})
    assert response.status_code == 413
    assert "too large" in text_of(response)


def test_error_pages_show_no_gov_uk_branding(client: FlaskClient) -> None:
    body = text_of(client.get("/no-such-page"))
    assert "GOV.UK" not in body
    assert "govuk-crest" not in body and "govuk-icon" not in body
    assert "govuk-generic-header" in body


def test_healthz_returns_no_data(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert text_of(response) == "ok"
