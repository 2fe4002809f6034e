"""Fixtures for wizard tests: a signed-in practitioner in a charity with a policy document."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from decision_aid.extensions import db
from decision_aid.models import Organisation, User
from tests.helpers import sign_in, text_of


def _sign_in(client: FlaskClient, app: Flask, user: User) -> None:
    """Use the MFA engineer's full sign-in helper when it exists, else the password form."""
    if importlib.util.find_spec("tests.fixtures_mfa") is not None:
        from tests.fixtures_mfa import full_sign_in  # type: ignore[import-not-found]

        full_sign_in(client, app, user)
        return
    response = sign_in(client, user.email)
    assert response.status_code == 302, text_of(response)


@pytest.fixture
def org_settings(app: Flask) -> Callable[..., None]:
    """Change organisation settings: org_settings(org_type="nhs_body")."""

    def change(**values: Any) -> None:
        with app.app_context():
            org = db.session.scalars(db.select(Organisation)).one()
            for key, value in values.items():
                setattr(org, key, value)
            db.session.commit()

    return change


@pytest.fixture
def practitioner(app: Flask, make_user: Any, org_settings: Callable[..., None]) -> User:
    """A practitioner in team North (MFA off for practitioners unless the MFA helper exists)."""
    org_settings(mfa_required_for_practitioners=False, org_type="charity", apd_in_place=True)
    return make_user(role="practitioner", teams=["North"])


@pytest.fixture
def signed_in(client: FlaskClient, app: Flask, practitioner: User) -> FlaskClient:
    """The client signed in as the practitioner."""
    _sign_in(client, app, practitioner)
    return client


@pytest.fixture
def sign_in_as(app: Flask) -> Callable[[FlaskClient, User], None]:
    """Sign a given client in as a given user."""
    return lambda client, user: _sign_in(client, app, user)
