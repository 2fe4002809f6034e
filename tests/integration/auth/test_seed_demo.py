"""seed-demo enrols every demo user and prints each key, so a newcomer can sign in with an app."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskCliRunner

from tests.fixtures_mfa import code_for
from tests.helpers import sign_in, submit


def test_seed_demo_prints_keys_that_sign_in(app: Flask, runner: FlaskCliRunner) -> None:
    with app.app_context():  # plain click commands get no app context from the test runner
        output = runner.invoke(args=["seed-demo"]).output
    keys = dict(re.findall(r"^\s+(\S+@example\.org)\s+([A-Z2-7]{32})$", output, re.MULTILINE))
    passwords = dict(re.findall(r"^\s+supervisor\s+(\S+@example\.org)\s+(\S+)$", output, re.MULTILINE))
    assert len(keys) == 5
    client = app.test_client()
    email, password = next(iter(passwords.items()))
    assert sign_in(client, email, password).headers["Location"].endswith("/sign-in/two-factor")
    response = submit(client, "/sign-in/two-factor", {"code": code_for(app, keys[email])})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
