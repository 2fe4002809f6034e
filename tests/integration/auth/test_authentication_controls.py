"""Smaller authentication and session controls named in docs/security/asvs-l2.md (ASVS V6, V7, V14)."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from decision_aid.auth import mfa
from decision_aid.extensions import db
from decision_aid.models import MfaCredential, Organisation, User
from tests.fixtures_mfa import enrol, full_sign_in
from tests.fixtures_users import PASSWORD, MakeUser
from tests.helpers import sign_in, submit, text_of


def test_password_fields_are_masked_and_paste_is_allowed(client: FlaskClient) -> None:
    page = text_of(client.get("/sign-in"))
    field = re.search(r"<input[^>]*name=\"password\"[^>]*>", page)
    assert field and 'type="password"' in field.group(0)
    assert 'autocomplete="current-password"' in field.group(0)
    assert "onpaste" not in page and "hint" not in field.group(0).lower()


def test_password_is_checked_exactly_as_typed(client: FlaskClient, make_user: MakeUser, app: Flask) -> None:
    with app.app_context():
        db.session.scalars(db.select(Organisation)).one().mfa_required_for_practitioners = False
        db.session.commit()
    user = make_user(role="practitioner")
    for variant in (PASSWORD.upper(), PASSWORD + " ", PASSWORD[:-1]):
        assert sign_in(client, user.email, variant).status_code == 200
    assert sign_in(client, user.email, PASSWORD).status_code == 302


def test_long_passwords_are_accepted_on_change(app: Flask, make_user: MakeUser) -> None:
    user = make_user(role="supervisor")
    client = app.test_client()
    full_sign_in(client, app, user)
    long_password = "copper lantern harbour " * 2 + "violet granite meadow ka"  # 70 chars, spaces allowed
    assert len(long_password) >= 64
    response = submit(client, "/account/password", {
        "current_password": PASSWORD, "new_password": long_password, "confirm_password": long_password})
    assert response.status_code == 302
    with app.app_context():
        from decision_aid.auth.passwords import verify_password

        assert verify_password(db.session.get(User, user.id).password_hash, long_password)  # type: ignore[union-attr]


def test_a_fresh_install_has_no_default_accounts(app: Flask) -> None:
    with app.app_context():
        assert db.session.scalars(db.select(User)).all() == []


def test_sign_out_is_visible_on_signed_in_pages_and_clears_site_data(app: Flask, make_user: MakeUser) -> None:
    client = app.test_client()
    full_sign_in(client, app, make_user(role="supervisor"))
    for path in ("/", "/account", "/account/sessions"):
        assert 'action="/sign-out"' in text_of(client.get(path))
    page = text_of(client.get("/account"))
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = client.post("/sign-out", data={"csrf_token": token})
    assert response.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'


def test_totp_secret_is_encrypted_and_bound_to_its_user(app: Flask, make_user: MakeUser) -> None:
    alice, bob = make_user(role="dpo"), make_user(role="dpo")
    enrol(app, alice, "ALICEALICEALICEALICEALICEALICE22")
    enrol(app, bob)
    with app.app_context():
        stolen = db.session.get(MfaCredential, alice.id).secret_ciphertext  # type: ignore[union-attr]
        assert b"ALICE" not in stolen
        assert mfa.decrypt_secret(alice.id, stolen) == "ALICEALICEALICEALICEALICEALICE22"
        try:
            mfa.decrypt_secret(bob.id, stolen)
        except Exception as error:  # cryptography's InvalidTag
            assert type(error).__name__ == "InvalidTag"
        else:
            raise AssertionError("a secret moved to another user's row must not decrypt")


def test_recovery_codes_carry_at_least_112_bits() -> None:
    import math

    assert mfa.RECOVERY_CODE_SYMBOLS * math.log2(len(set(mfa.RECOVERY_ALPHABET))) >= 112


def test_trace_is_not_supported(client: FlaskClient) -> None:
    assert client.open("/sign-in", method="TRACE").status_code == 405
