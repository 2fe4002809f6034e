"""Sign-in, lock-out, server-side sessions and CSRF (quality-targets T3, T5-T7)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from decision_aid.clock import FakeClock
from decision_aid.extensions import db
from decision_aid.models import Organisation, User, WebSession
from tests.fixtures_users import MakeUser
from tests.helpers import csrf_token, sign_in, submit, text_of

GENERIC = "Enter a correct email address and password"


@pytest.fixture
def practitioner(app: Flask, make_user: MakeUser) -> User:
    """A practitioner in an organisation that does not require a second factor (sign-in tests)."""
    with app.app_context():
        org = db.session.scalars(db.select(Organisation)).one()
        org.mfa_required_for_practitioners = False
        db.session.commit()
    return make_user(role="practitioner", teams=["North"])


def session_cookie(client: FlaskClient, app: Flask) -> str | None:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    return cookie.value if cookie else None


def test_correct_password_signs_in(client: FlaskClient, practitioner: User) -> None:
    response = sign_in(client, practitioner.email)
    assert response.status_code == 302
    home = client.get("/")
    assert "Practitioner home" in text_of(home)


def test_wrong_password_gives_generic_error(client: FlaskClient, practitioner: User) -> None:
    response = sign_in(client, practitioner.email, "wrong-password-entirely")
    assert response.status_code == 200
    assert GENERIC in text_of(response)
    assert "Error: Sign in" in text_of(response)


def test_unknown_account_gets_the_same_message(client: FlaskClient) -> None:
    response = sign_in(client, "nobody@example.org", "wrong-password-entirely")
    assert GENERIC in text_of(response)


def test_ten_failures_lock_the_account_without_revealing_it(
    client: FlaskClient, practitioner: User, fake_clock: FakeClock
) -> None:
    for _ in range(10):
        sign_in(client, practitioner.email, "wrong-password-entirely")
    locked = sign_in(client, practitioner.email)  # the right password, but throttled
    assert locked.status_code == 200 and GENERIC in text_of(locked)
    fake_clock.advance(minutes=16)
    assert sign_in(client, practitioner.email).status_code == 302


def test_unknown_accounts_are_throttled_identically(client: FlaskClient) -> None:
    bodies = {text_of(sign_in(client, "ghost@example.org", "wrong-password-entirely")) for _ in range(11)}
    assert all(GENERIC in body for body in bodies)


def test_disabled_account_cannot_sign_in(client: FlaskClient, make_user: MakeUser) -> None:
    user = make_user(role="practitioner", active=False)
    assert GENERIC in text_of(sign_in(client, user.email))


def test_cookie_holds_only_a_random_token(client: FlaskClient, app: Flask, practitioner: User) -> None:
    sign_in(client, practitioner.email)
    token = session_cookie(client, app)
    assert token and len(token) >= 40 and "." not in token  # not a signed data cookie
    with app.app_context():
        rows = db.session.scalars(db.select(WebSession).where(WebSession.user_id == practitioner.id)).all()
        assert len(rows) == 1 and token not in rows[0].id  # only the hash is stored


def test_session_id_changes_at_sign_in(client: FlaskClient, app: Flask, practitioner: User) -> None:
    client.get("/sign-in")
    client.post("/sign-in", data={"email": "x@example.org", "password": "y"})  # creates a session
    before = session_cookie(client, app)
    sign_in(client, practitioner.email)
    after = session_cookie(client, app)
    assert before and after and before != after


def test_copied_cookie_stops_working_after_sign_out(client: FlaskClient, app: Flask, practitioner: User) -> None:
    sign_in(client, practitioner.email)
    stolen = session_cookie(client, app)
    page = client.get("/")
    client.post("/sign-out", data={"csrf_token": csrf_token(text_of(page))})
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], stolen or "")
    response = thief.get("/admin/users")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_idle_timeout_ends_the_session(client: FlaskClient, practitioner: User, fake_clock: FakeClock) -> None:
    sign_in(client, practitioner.email)
    fake_clock.advance(minutes=14)
    assert "Practitioner home" in text_of(client.get("/"))
    fake_clock.advance(minutes=16)
    assert client.get("/").status_code == 302


def test_absolute_timeout_ends_an_active_session(
    client: FlaskClient, practitioner: User, fake_clock: FakeClock
) -> None:
    sign_in(client, practitioner.email)
    for _ in range(12 * 6):  # active every 10 minutes for 12 hours
        fake_clock.advance(minutes=10)
        client.get("/")
    fake_clock.advance(minutes=10)
    assert client.get("/").status_code == 302


def test_post_without_csrf_token_is_rejected(client: FlaskClient, practitioner: User) -> None:
    response = client.post("/sign-in", data={"email": practitioner.email, "password": "x"})
    assert response.status_code == 400


def test_csrf_token_from_another_session_is_rejected(app: Flask, practitioner: User) -> None:
    first, second = app.test_client(), app.test_client()
    token = csrf_token(text_of(first.get("/sign-in")))
    second.get("/sign-in")
    response = second.post("/sign-in", data={"email": practitioner.email, "password": "x", "csrf_token": token})
    assert response.status_code == 400


def test_sign_out_is_post_only(client: FlaskClient, practitioner: User) -> None:
    sign_in(client, practitioner.email)
    assert client.get("/sign-out").status_code == 405


def test_open_redirect_after_sign_in_is_refused(client: FlaskClient, practitioner: User) -> None:
    response = submit(client, "/sign-in?next=//evil.example/x", {"email": practitioner.email,
                      "password": "correct-horse-battery-staple-42"})
    assert response.headers["Location"] in {"/", "http://localhost/"}


def test_sign_in_and_failures_are_audited(client: FlaskClient, app: Flask, practitioner: User) -> None:
    from decision_aid.audit import events
    from decision_aid.models.audit import AuditEvent

    sign_in(client, practitioner.email, "wrong-password-entirely")
    sign_in(client, practitioner.email)
    with app.app_context():
        types = [e.event_type for e in db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.seq))]
    assert events.SIGN_IN_FAILED in types and events.SIGN_IN_SUCCEEDED in types
