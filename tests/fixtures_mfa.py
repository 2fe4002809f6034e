"""Signing in with the second factor in tests.

Other areas' tests should sign in with `full_sign_in(client, app, user)`: it enrols the user with
a known secret straight in the database when needed, submits the password form, then the code
form, exactly as a browser would. Codes are computed with pyotp from the app's (fake) clock.
"""

from __future__ import annotations

from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from decision_aid.extensions import db
from decision_aid.models import MfaCredential, User
from tests.fixtures_users import PASSWORD, MakeUser
from tests.helpers import sign_in, submit

KNOWN_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # base32, 160 bits; tests only


def code_for(app: Flask, secret: str = KNOWN_SECRET, steps: int = 0) -> str:
    """The code an authenticator app would show now (per the app's clock), `steps` x 30 s away."""
    now = app.extensions["clock"]()
    return pyotp.TOTP(secret).at(int(now.timestamp()) + 30 * steps)


def enrol(app: Flask, user: User, secret: str = KNOWN_SECRET) -> list[str]:
    """Enrol the user directly in the database; returns their ten recovery codes."""
    from decision_aid.auth import mfa

    with app.app_context():
        return mfa.provision(db.session.get(User, user.id) or user, secret)


def forget_last_code(app: Flask, user: User) -> None:
    """Let the current code be used again (tests signing in several clients within 30 s)."""
    with app.app_context():
        cred = db.session.get(MfaCredential, user.id)
        if cred is not None:
            cred.last_used_step = None
            db.session.commit()


def sign_in_with_mfa(client: FlaskClient, app: Flask, user: User, secret: str = KNOWN_SECRET,
                     password: str = PASSWORD) -> TestResponse:
    """Password, then the current code; returns the response to the code form (a redirect)."""
    first = sign_in(client, user.email, password)
    if "/sign-in/two-factor" not in first.headers.get("Location", ""):
        return first
    return submit(client, "/sign-in/two-factor", {"code": code_for(app, secret)})


def full_sign_in(client: FlaskClient, app: Flask, user: User) -> TestResponse:
    """Sign in completely, whatever the role and the organisation's MFA setting."""
    with app.app_context():
        enrolled = db.session.get(MfaCredential, user.id) is not None
    if not enrolled:
        enrol(app, user)
    forget_last_code(app, user)
    response = sign_in_with_mfa(client, app, user)
    assert response.status_code == 302, "sign-in did not complete"
    assert "/sign-in" not in response.headers.get("Location", ""), "sign-in did not complete"
    return response


@pytest.fixture
def enrolled_user(app: Flask, make_user: MakeUser) -> Any:
    """A supervisor (MFA always required) enrolled with KNOWN_SECRET; `.recovery_codes` attached."""
    user = make_user(role="supervisor", teams=["North"])
    user.recovery_codes = enrol(app, user)  # type: ignore[attr-defined]
    return user
