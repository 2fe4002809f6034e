"""Shared fixtures: a migrated database per test (SQLite, and PostgreSQL when configured), the app,
clients, a fake clock and users.

When DECISION_AID_TEST_DATABASE_URL is set (CI does), every test that uses a database runs twice:
once on SQLite and once on a uniquely named PostgreSQL database made from a migrated template.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from hypothesis import HealthCheck, settings

from decision_aid.clock import FakeClock
from tests.fixtures_db import migrate_to_head, postgres_admin_url, postgres_database

settings.register_profile("fast", max_examples=50, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.register_profile("deep", max_examples=10_000, deadline=None,
                          suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))

pytest_plugins = ["tests.fixtures_users", "tests.fixtures_decisions", "tests.fixtures_pgcluster"]

BACKENDS = ["sqlite"] + (["postgresql"] if postgres_admin_url() else [])
TEST_SECRET = "test-secret-key-not-for-production-" + "x" * 20
START = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)


def base_config(database_url: str, tmp: Path) -> dict[str, Any]:
    """Test overrides: CSRF stays on (tests post real tokens), keys and checkpoints in tmp."""
    return {
        "DEPLOYMENT": "test",
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": True,
        "CHECKPOINT_DIR": str(tmp / "checkpoints"),
        "AUDIT_SIGNING_KEY_FILE": None,
        "SERVER_NAME": "localhost",
    }


# Areas whose behaviour does not depend on the database engine (rendering, HTML checks) run on
# SQLite only; everything that writes, locks, migrates or queries runs on both.
SQLITE_ONLY_PATHS = ("tests/integration/records/", "tests/integration/test_html_valid.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the PostgreSQL copies of engine-independent tests, to keep `make test` short."""
    keep, drop = [], []
    for item in items:
        engine_independent = any(item.nodeid.startswith(p) for p in SQLITE_ONLY_PATHS)
        (drop if engine_independent and "postgresql" in item.nodeid else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file made once per test process and copied for each test."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    migrate_to_head(f"sqlite:///{path}", path.parent)
    return path


@pytest.fixture(scope="session")
def postgres_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated PostgreSQL database used as the template for each test's database."""
    with postgres_database() as (name, url):
        migrate_to_head(url, tmp_path_factory.mktemp("pg-template"))
        yield name


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for one test; dropped (PostgreSQL) or left in tmp afterwards."""
    if request.param == "sqlite":
        target = tmp_path / "test.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite:///{target}"
        return
    template = request.getfixturevalue("postgres_template")
    with postgres_database(template=template) as (_, url):
        yield url


@pytest.fixture
def fake_clock() -> FakeClock:
    """A clock the test controls; installed on the app by the `app` fixture."""
    return FakeClock(START)


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict[str, Any]:
    """Override in a test module to change settings before the app is built."""
    return base_config(database_url, tmp_path)


@pytest.fixture
def app(app_config: dict[str, Any], fake_clock: FakeClock) -> Iterator[Flask]:
    """The app on its own fresh database, with the fake clock and an organisation."""
    from decision_aid import create_app
    from decision_aid.extensions import db

    application = create_app(app_config)
    application.extensions["clock"] = fake_clock
    with application.app_context():
        from decision_aid.cli import ensure_organisation

        ensure_organisation("Test Safeguarding Partnership")
    yield application
    with application.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[Flask]:
    """An application context for service-level tests."""
    with app.app_context():
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser-like test client (cookies kept between requests)."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """The Flask CLI runner for command tests."""
    return app.test_cli_runner()


@pytest.fixture
def unique() -> str:
    """A short unique string for names that must not collide."""
    return uuid.uuid4().hex[:8]
