"""Single sign-on with OpenID Connect against a local provider stub on 127.0.0.1 (issue 7)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import base_config
from tests.fixtures_mfa import code_for, enrol
from tests.fixtures_users import MakeUser
from tests.helpers import submit, text_of
from tests.integration.auth.oidc_stub import CLIENT_ID, CLIENT_SECRET, StubProvider


@pytest.fixture(scope="module")
def provider() -> Iterator[StubProvider]:
    stub = StubProvider()
    yield stub
    stub.stop()


@pytest.fixture
def app_config(database_url: str, tmp_path: Path, provider: StubProvider) -> dict[str, Any]:
    provider.claims = {}
    return {**base_config(database_url, tmp_path), "OIDC_ISSUER": provider.issuer,
            "OIDC_CLIENT_ID": CLIENT_ID, "OIDC_CLIENT_SECRET": CLIENT_SECRET}


def round_trip(client: FlaskClient) -> TestResponse:
    """Press the SSO button, let the provider redirect back, and return the callback's response."""
    start = submit(client, "/sign-in/sso", {}, form_url="/sign-in")
    assert start.status_code == 302
    at_provider = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    assert at_provider.status_code == 302
    callback = at_provider.headers["Location"]
    assert callback.startswith("http://localhost/sign-in/sso/callback?")
    return client.get(callback.removeprefix("http://localhost"))


def test_round_trip_then_our_second_factor(
    client: FlaskClient, app: Flask, make_user: MakeUser, provider: StubProvider
) -> None:
    user = make_user(role="supervisor")
    enrol(app, user)
    provider.claims = {"email": user.email.upper(), "email_verified": True, "amr": ["pwd"]}
    response = round_trip(client)
    assert response.headers["Location"].endswith("/sign-in/two-factor")
    assert client.get("/").status_code == 302  # not signed in yet
    assert submit(client, "/sign-in/two-factor", {"code": code_for(app)}).status_code == 302
    assert client.get("/").status_code == 200


def test_provider_mfa_is_trusted_only_when_configured(
    client: FlaskClient, app: Flask, make_user: MakeUser, provider: StubProvider
) -> None:
    app.config["OIDC_TRUST_IDP_MFA"] = True
    user = make_user(role="dpo")
    provider.claims = {"email": user.email, "email_verified": True, "amr": ["pwd", "mfa"]}
    response = round_trip(client)
    assert response.status_code == 302 and "/sign-in" not in response.headers["Location"]
    assert client.get("/").status_code == 200


def test_unverified_email_is_refused(
    client: FlaskClient, make_user: MakeUser, provider: StubProvider
) -> None:
    user = make_user(role="supervisor")
    provider.claims = {"email": user.email, "email_verified": False}
    response = round_trip(client)
    assert "no active account here" in text_of(response)
    assert client.get("/").status_code == 302


def test_unknown_email_creates_no_account(client: FlaskClient, app: Flask, provider: StubProvider) -> None:
    provider.claims = {"email": "stranger@example.org", "email_verified": True, "amr": ["mfa"]}
    app.config["OIDC_TRUST_IDP_MFA"] = True
    assert "no active account here" in text_of(round_trip(client))
    assert client.get("/").status_code == 302


def test_callback_with_forged_state_is_refused(client: FlaskClient, provider: StubProvider) -> None:
    before = provider.token_requests
    response = client.get("/sign-in/sso/callback?code=abc&state=forged")
    assert "did not work" in text_of(response)
    assert provider.token_requests == before  # refused before any code exchange
    assert client.get("/").status_code == 302


def test_sso_routes_404_when_not_configured(app: Flask) -> None:
    for key in ("OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET"):
        app.config[key] = None
    client = app.test_client()
    assert client.get("/sign-in/sso/callback?code=x&state=y").status_code == 404
    assert "organisation account" not in text_of(client.get("/sign-in"))
