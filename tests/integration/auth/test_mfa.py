"""TOTP sign-in: enrolment, codes, replay, drift, recovery codes, throttling (issue 7; T7, T12)."""

from __future__ import annotations

import logging
import re

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient

from decision_aid.clock import FakeClock
from decision_aid.extensions import db
from decision_aid.models import MfaCredential, Organisation, RecoveryCode, User
from tests.fixtures_mfa import KNOWN_SECRET, code_for, full_sign_in, sign_in_with_mfa
from tests.fixtures_users import MakeUser
from tests.helpers import sign_in, submit, text_of

KEY_RE = re.compile(r'data-testid="totp-key">([A-Z2-7 ]+)<')


def is_signed_in(client: FlaskClient) -> bool:
    """The home page renders (not a redirect to sign-in)."""
    return client.get("/").status_code == 200


def start_enrolment(client: FlaskClient, user: User) -> str:
    """Password step for a user without an app; returns the key shown on the enrolment page."""
    response = sign_in(client, user.email)
    assert response.headers["Location"].endswith("/sign-in/set-up-two-factor")
    page = text_of(client.get("/sign-in/set-up-two-factor"))
    assert 'src="data:image/svg+xml;base64,' in page
    match = KEY_RE.search(page)
    assert match, "the text key is on the page"
    return match.group(1).replace(" ", "")


def test_enrolment_shows_qr_and_key_then_signs_in_with_recovery_codes(
    client: FlaskClient, app: Flask, make_user: MakeUser
) -> None:
    user = make_user(role="supervisor")
    secret = start_enrolment(client, user)
    assert not is_signed_in(client)
    response = submit(client, "/sign-in/set-up-two-factor", {"code": code_for(app, secret)})
    codes = re.findall(r"<code>([A-Z2-9-]{29})</code>", text_of(response))
    assert len(codes) == 10 and len(set(codes)) == 10
    assert is_signed_in(client)
    with app.app_context():
        cred = db.session.get(MfaCredential, user.id)
        assert cred is not None and cred.enrolled_at is not None
        assert secret.encode() not in cred.secret_ciphertext  # encrypted at rest
        stored = db.session.scalars(db.select(RecoveryCode.code_hash)).all()
        assert not set(codes) & set(stored)  # only hashes are kept


def test_enrolment_with_wrong_code_is_refused(client: FlaskClient, app: Flask, make_user: MakeUser) -> None:
    user = make_user(role="dpo")
    secret = start_enrolment(client, user)
    wrong = code_for(app, secret, steps=10)
    response = submit(client, "/sign-in/set-up-two-factor", {"code": wrong})
    assert response.status_code == 200
    assert "not correct" in text_of(response)
    assert not is_signed_in(client)


def test_empty_code_gets_govuk_error(client: FlaskClient, enrolled_user: User) -> None:
    sign_in(client, enrolled_user.email)
    response = submit(client, "/sign-in/two-factor", {"code": ""})
    assert "Enter the 6-digit code from your authenticator app" in text_of(response)


def test_sign_in_with_valid_code(client: FlaskClient, app: Flask, enrolled_user: User) -> None:
    first = sign_in(client, enrolled_user.email)
    assert first.headers["Location"].endswith("/sign-in/two-factor")
    assert not is_signed_in(client)  # password alone is not enough
    response = submit(client, "/sign-in/two-factor", {"code": code_for(app)})
    assert response.status_code == 302
    assert is_signed_in(client)


def test_sign_in_with_wrong_code_is_refused(client: FlaskClient, app: Flask, enrolled_user: User) -> None:
    sign_in(client, enrolled_user.email)
    response = submit(client, "/sign-in/two-factor", {"code": code_for(app, steps=5)})
    assert response.status_code == 200
    assert "not correct" in text_of(response)
    assert not is_signed_in(client)


def test_replayed_code_is_refused(app: Flask, enrolled_user: User) -> None:
    first, second = app.test_client(), app.test_client()
    assert sign_in_with_mfa(first, app, enrolled_user).status_code == 302
    assert is_signed_in(first)
    sign_in(second, enrolled_user.email)
    replay = submit(second, "/sign-in/two-factor", {"code": code_for(app)})
    assert replay.status_code == 200
    assert not is_signed_in(second)


def test_code_from_previous_step_is_accepted_for_drift(
    client: FlaskClient, app: Flask, enrolled_user: User
) -> None:
    sign_in(client, enrolled_user.email)
    assert submit(client, "/sign-in/two-factor", {"code": code_for(app, steps=-1)}).status_code == 302


def test_code_two_steps_old_is_refused(client: FlaskClient, app: Flask, enrolled_user: User) -> None:
    sign_in(client, enrolled_user.email)
    assert submit(client, "/sign-in/two-factor", {"code": code_for(app, steps=-2)}).status_code == 200


def test_half_signed_in_state_expires(
    client: FlaskClient, app: Flask, enrolled_user: User, fake_clock: FakeClock
) -> None:
    sign_in(client, enrolled_user.email)
    fake_clock.advance(minutes=11)
    response = client.get("/sign-in/two-factor")
    assert response.status_code == 302 and response.headers["Location"].endswith("/sign-in")


def test_code_page_without_password_step_goes_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/sign-in/two-factor")
    assert response.status_code == 302 and response.headers["Location"].endswith("/sign-in")


def test_wrong_codes_are_throttled(client: FlaskClient, app: Flask, enrolled_user: User) -> None:
    sign_in(client, enrolled_user.email)
    for _ in range(10):
        submit(client, "/sign-in/two-factor", {"code": "000000" if code_for(app) != "000000" else "111111"})
    response = submit(client, "/sign-in/two-factor", {"code": code_for(app)})
    assert response.status_code == 200  # even the right code waits out the lock
    assert not is_signed_in(client)


def test_recovery_code_signs_in_once(client: FlaskClient, app: Flask, enrolled_user: User) -> None:
    code = enrolled_user.recovery_codes[0]  # type: ignore[attr-defined]
    sign_in(client, enrolled_user.email)
    assert submit(client, "/sign-in/recovery-code", {"code": code.lower()}).status_code == 302
    assert is_signed_in(client)
    other = app.test_client()
    sign_in(other, enrolled_user.email)
    again = submit(other, "/sign-in/recovery-code", {"code": code})
    assert again.status_code == 200 and "already been used" in text_of(again)
    assert not is_signed_in(other)


def test_wrong_recovery_code_is_refused(client: FlaskClient, enrolled_user: User) -> None:
    sign_in(client, enrolled_user.email)
    response = submit(client, "/sign-in/recovery-code", {"code": "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF"})
    assert response.status_code == 200
    assert not is_signed_in(client)


def test_practitioner_without_mfa_setting_signs_in_with_password(
    client: FlaskClient, app: Flask, make_user: MakeUser
) -> None:
    with app.app_context():
        db.session.scalars(db.select(Organisation)).one().mfa_required_for_practitioners = False
        db.session.commit()
    user = make_user(role="practitioner")
    sign_in(client, user.email)
    assert is_signed_in(client)


def test_practitioner_needs_mfa_by_default(client: FlaskClient, make_user: MakeUser) -> None:
    user = make_user(role="practitioner")
    response = sign_in(client, user.email)
    assert response.headers["Location"].endswith("/sign-in/set-up-two-factor")
    assert not is_signed_in(client)


def test_full_sign_in_helper_works_for_every_role(app: Flask, make_user: MakeUser) -> None:
    for role in ("practitioner", "supervisor", "dpo", "admin"):
        client = app.test_client()
        full_sign_in(client, app, make_user(role=role))
        assert is_signed_in(client)


def test_codes_and_secrets_never_reach_the_logs(
    client: FlaskClient, app: Flask, enrolled_user: User, caplog: pytest.LogCaptureFixture
) -> None:
    code = code_for(app)
    logger = logging.getLogger("decision_aid.security")
    logger.addHandler(caplog.handler)  # the app may stop propagation to the root logger
    logger.disabled = False  # alembic's fileConfig (migrations in-process) disables loggers
    caplog.set_level(logging.INFO, logger="decision_aid.security")
    try:
        sign_in_with_mfa(client, app, enrolled_user)
    finally:
        logger.removeHandler(caplog.handler)
    assert '"event": "mfa"' in caplog.text
    assert code not in caplog.text and KNOWN_SECRET not in caplog.text


def test_pyotp_and_our_codes_agree(app: Flask) -> None:
    now = app.extensions["clock"]()
    assert code_for(app) == pyotp.TOTP(KNOWN_SECRET).at(now)
