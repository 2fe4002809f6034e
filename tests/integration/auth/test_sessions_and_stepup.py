"""Own sessions, sign out everywhere, password change, step-up, keep-alive, admin reset (issue 7; T6)."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from decision_aid.auth.access import roles
from decision_aid.auth.stepup import recent_auth_required
from decision_aid.clock import FakeClock
from decision_aid.extensions import db
from decision_aid.models import MfaCredential, RecoveryCode, Role, User, WebSession
from tests.fixtures_mfa import code_for, forget_last_code, full_sign_in
from tests.fixtures_users import PASSWORD, MakeUser
from tests.helpers import csrf_token, sign_in, submit, text_of

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
NEW_PASSWORD = "lantern-thistle-copper-meadow-91"


def signed_in_client(app: Flask, user: User, agent: str = FIREFOX) -> FlaskClient:
    """A fresh browser with its own User-Agent, fully signed in."""
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = agent
    full_sign_in(client, app, user)
    return client


def is_signed_in(client: FlaskClient) -> bool:
    return client.get("/").status_code == 200


def step_up(client: FlaskClient, app: Flask, fake_clock: FakeClock) -> None:
    """Re-enter the password and a fresh code, as the sessions page asks before ending one."""
    fake_clock.advance(seconds=30)  # the sign-in code is single-use: move to the next step
    done = submit(client, "/account/reauthenticate?next=/account/sessions",
                  {"password": PASSWORD, "code": code_for(app)})
    assert done.headers["Location"] == "/account/sessions"


def test_sessions_page_lists_own_live_sessions(app: Flask, make_user: MakeUser) -> None:
    user = make_user(role="supervisor")
    laptop = signed_in_client(app, user)
    signed_in_client(app, user, agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Version/17.0 Safari/604.1")
    other_person = signed_in_client(app, make_user(role="supervisor"))
    page = text_of(laptop.get("/account/sessions"))
    assert page.count('data-testid="session-row"') == 2
    assert "Firefox on Windows" in page and "Safari on iPhone" in page
    assert "This session" in page
    assert is_signed_in(other_person)


def test_ending_a_session_first_asks_for_the_password_again(app: Flask, make_user: MakeUser) -> None:
    user = make_user(role="dpo")
    laptop, phone = signed_in_client(app, user), signed_in_client(app, user)
    page = text_of(laptop.get("/account/sessions"))
    target = re.search(r'name="target" value="([0-9a-f]{64})"', page)
    assert target
    response = submit(laptop, "/account/sessions", {"target": target.group(1)})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/reauthenticate?next=/account/sessions")
    assert is_signed_in(phone)
    assert "Confirm it is you" in text_of(laptop.get(response.headers["Location"]))


def test_ending_another_session_signs_it_out(app: Flask, make_user: MakeUser, fake_clock: FakeClock) -> None:
    user = make_user(role="dpo")
    laptop, phone = signed_in_client(app, user), signed_in_client(app, user)
    step_up(laptop, app, fake_clock)
    page = text_of(laptop.get("/account/sessions"))
    target = re.search(r'name="target" value="([0-9a-f]{64})"', page)
    assert target
    laptop.post("/account/sessions", data={"csrf_token": csrf_token(page), "target": target.group(1)})
    assert not is_signed_in(phone)
    assert is_signed_in(laptop)


def test_cannot_end_someone_elses_session(app: Flask, make_user: MakeUser, fake_clock: FakeClock) -> None:
    victim = make_user(role="admin")
    victim_client = signed_in_client(app, victim)
    attacker = signed_in_client(app, make_user(role="supervisor"))
    step_up(attacker, app, fake_clock)
    with app.app_context():
        key = db.session.scalars(db.select(WebSession.id).where(WebSession.user_id == victim.id)).first()
    submit(attacker, "/account/sessions", {"target": key})
    assert is_signed_in(victim_client)


def test_sign_out_everywhere_else(app: Flask, make_user: MakeUser, fake_clock: FakeClock) -> None:
    user = make_user(role="supervisor")
    here, elsewhere_1, elsewhere_2 = (signed_in_client(app, user) for _ in range(3))
    step_up(here, app, fake_clock)
    response = submit(here, "/account/sessions", {}, follow=True)
    assert "Signed out of 2 other sessions" in text_of(response)
    assert is_signed_in(here)
    assert not is_signed_in(elsewhere_1) and not is_signed_in(elsewhere_2)


def test_password_change_signs_out_everywhere_else(app: Flask, make_user: MakeUser) -> None:
    user = make_user(role="supervisor")
    here, elsewhere = signed_in_client(app, user), signed_in_client(app, user)
    response = submit(here, "/account/password", {
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert response.status_code == 302
    assert is_signed_in(here) and not is_signed_in(elsewhere)
    assert sign_in(app.test_client(), user.email, NEW_PASSWORD).status_code == 302


def test_password_change_needs_the_current_password(app: Flask, make_user: MakeUser) -> None:
    client = signed_in_client(app, make_user(role="supervisor"))
    response = submit(client, "/account/password", {
        "current_password": "not-my-password-at-all", "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert "Enter your current password correctly" in text_of(response)


def test_keep_alive_touches_the_server_session(app: Flask, make_user: MakeUser, fake_clock: FakeClock) -> None:
    client = signed_in_client(app, make_user(role="supervisor"))
    token = csrf_token(text_of(client.get("/account")))
    fake_clock.advance(minutes=14)
    response = client.post("/account/keep-alive", headers={"X-CSRFToken": token})
    assert response.status_code == 204
    fake_clock.advance(minutes=14)  # 28 minutes after the page, 14 after keep-alive
    assert is_signed_in(client)


def test_keep_alive_needs_csrf_token(app: Flask, make_user: MakeUser) -> None:
    client = signed_in_client(app, make_user(role="supervisor"))
    assert client.post("/account/keep-alive").status_code == 400


def test_step_up_before_export(app: Flask, make_user: MakeUser, fake_clock: FakeClock) -> None:
    @roles(Role.DPO)
    @recent_auth_required(max_age_minutes=5)
    def fake_export() -> str:
        return "export ready"

    app.add_url_rule("/test-export", "test_export", fake_export)
    user = make_user(role="dpo")
    client = signed_in_client(app, user)
    first = client.get("/test-export")
    assert first.status_code == 302 and "/account/reauthenticate?next=/test-export" in first.headers["Location"]
    fake_clock.advance(seconds=30)
    done = submit(client, first.headers["Location"], {"password": PASSWORD, "code": code_for(app)})
    assert done.headers["Location"] == "/test-export"
    assert "export ready" in text_of(client.get("/test-export"))
    fake_clock.advance(minutes=6)
    assert client.get("/test-export").status_code == 302


def test_step_up_refuses_wrong_password(app: Flask, make_user: MakeUser, fake_clock: FakeClock) -> None:
    client = signed_in_client(app, make_user(role="dpo"))
    fake_clock.advance(seconds=30)
    response = submit(client, "/account/reauthenticate?next=/account/two-factor",
                      {"password": "wrong-password-here", "code": code_for(app)})
    assert response.status_code == 200
    assert client.get("/account/two-factor").status_code == 302


def test_re_enrolment_needs_step_up_then_replaces_the_app(
    app: Flask, make_user: MakeUser, fake_clock: FakeClock
) -> None:
    user = make_user(role="supervisor")
    client = signed_in_client(app, user)
    assert "/account/reauthenticate" in client.get("/account/two-factor").headers["Location"]
    fake_clock.advance(seconds=30)
    submit(client, "/account/reauthenticate?next=/account/two-factor", {"password": PASSWORD, "code": code_for(app)})
    submit(client, "/account/two-factor", {}, form_url="/account/two-factor")
    page = text_of(client.get("/account/two-factor"))
    new_secret = re.search(r'data-testid="totp-key">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")  # type: ignore[union-attr]
    fake_clock.advance(seconds=30)
    done = submit(client, "/account/two-factor", {"code": code_for(app, new_secret)})
    assert "Save your recovery codes" in text_of(done)
    fake_clock.advance(seconds=30)
    fresh = app.test_client()
    sign_in(fresh, user.email)
    assert submit(fresh, "/sign-in/two-factor", {"code": code_for(app)}).status_code == 200  # old app no longer works
    assert submit(fresh, "/sign-in/two-factor", {"code": code_for(app, new_secret)}).status_code == 302


def test_admin_reset_forces_re_enrolment(app: Flask, make_user: MakeUser) -> None:
    user = make_user(role="supervisor")
    user_client = signed_in_client(app, user)
    admin_client = signed_in_client(app, make_user(role="admin"))
    response = submit(admin_client, f"/admin/users/{user.id}/reset-two-factor", {"reset-submit": "Confirm"},
                      form_url=f"/admin/users/{user.id}")
    assert response.status_code == 302
    assert not is_signed_in(user_client)
    with app.app_context():
        assert db.session.get(MfaCredential, user.id) is None
        assert not db.session.scalars(db.select(RecoveryCode).where(RecoveryCode.user_id == user.id)).all()
    again = sign_in(app.test_client(), user.email)
    assert again.headers["Location"].endswith("/sign-in/set-up-two-factor")


def test_only_admins_can_reset(app: Flask, make_user: MakeUser) -> None:
    user = make_user(role="supervisor")
    forget_last_code(app, user)
    client = signed_in_client(app, make_user(role="dpo"))
    token = csrf_token(text_of(client.get("/account")))
    response = client.post(f"/admin/users/{user.id}/reset-two-factor", data={"csrf_token": token})
    assert response.status_code == 404


def test_account_pages_need_sign_in(client: FlaskClient) -> None:
    for path in ("/account", "/account/sessions", "/account/password", "/account/reauthenticate"):
        response = client.get(path)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_signed_in_pages_carry_the_timeout_settings(app: Flask, make_user: MakeUser) -> None:
    client = signed_in_client(app, make_user(role="supervisor"))
    page = text_of(client.get("/account"))
    assert 'data-idle-timeout-seconds="900"' in page
    assert 'data-idle-warning-seconds="120"' in page
    assert 'data-keep-alive-url="/account/keep-alive"' in page
    assert "data-idle-timeout-seconds" not in text_of(app.test_client().get("/sign-in"))


def test_timeout_script_is_an_accessible_dialog_without_inline_code() -> None:
    from decision_aid import ROOT

    script = (ROOT / "assets/js/timeout.js").read_text()
    assert '"alertdialog"' in script and "dialog.focus()" in script
    assert "Stay signed in" in script and ".style" not in script and "innerHTML" not in script
    assert 'from "./timeout.js"' in (ROOT / "assets/js/app.js").read_text()


def _session_row_reads(app: Flask, client: FlaskClient, path: str) -> tuple[int, int]:
    """(reads of web_session, writes to it) while the client GETs `path`."""
    from sqlalchemy import event

    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    reads = sum(1 for s in statements if s.lstrip().startswith("SELECT") and "FROM web_session" in s)
    writes = sum(1 for s in statements if s.lstrip().startswith("UPDATE web_session"))
    return reads, writes


def test_session_is_touched_every_30_seconds_and_read_once_per_request(
        app: Flask, make_user: MakeUser, fake_clock: FakeClock) -> None:
    client = signed_in_client(app, make_user(role="supervisor"))
    fake_clock.advance(seconds=31)
    assert _session_row_reads(app, client, "/account")[1] == 1  # touch due: written
    fake_clock.advance(seconds=10)
    assert _session_row_reads(app, client, "/account") == (1, 0)  # not due: no re-read, no write
