"""Configuration precedence and the fail-fast secret key."""

from __future__ import annotations

from pathlib import Path

import pytest

from decision_aid import create_app
from decision_aid.config import ConfigError, normalise_db_url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'config.sqlite3'}"


def test_defaults_apply_when_nothing_is_set(monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> None:
    monkeypatch.delenv("DECISION_AID_IDLE_TIMEOUT_MINUTES", raising=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": sqlite_url, "DEPLOYMENT": "test"})
    assert app.config["IDLE_TIMEOUT_MINUTES"] == 15
    assert app.config["ABSOLUTE_TIMEOUT_HOURS"] == 12
    assert app.config["MAX_CONTENT_LENGTH"] == 64 * 1024


def test_environment_overrides_defaults_and_is_typed(monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> None:
    monkeypatch.setenv("DECISION_AID_IDLE_TIMEOUT_MINUTES", "5")
    monkeypatch.setenv("DECISION_AID_BENCH_HELLO_ROUTE", "true")
    app = create_app({"SQLALCHEMY_DATABASE_URI": sqlite_url, "DEPLOYMENT": "test"})
    assert app.config["IDLE_TIMEOUT_MINUTES"] == 5
    assert app.config["BENCH_HELLO_ROUTE"] is True


def test_test_overrides_beat_the_environment(monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> None:
    monkeypatch.setenv("DECISION_AID_IDLE_TIMEOUT_MINUTES", "5")
    app = create_app({"SQLALCHEMY_DATABASE_URI": sqlite_url, "DEPLOYMENT": "test", "IDLE_TIMEOUT_MINUTES": 3})
    assert app.config["IDLE_TIMEOUT_MINUTES"] == 3


def test_database_url_is_honoured_and_legacy_scheme_rewritten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://user@db.example/app")
    monkeypatch.delenv("DECISION_AID_SQLALCHEMY_DATABASE_URI", raising=False)
    app = create_app({"DEPLOYMENT": "test"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://user@db.example/app"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://a@b/c", "postgresql+psycopg://a@b/c"),
        ("postgresql://a@b/c", "postgresql+psycopg://a@b/c"),
        ("postgresql+psycopg://a@b/c", "postgresql+psycopg://a@b/c"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_normalise_db_url(given: str, expected: str) -> None:
    assert normalise_db_url(given) == expected


def test_production_without_secret_key_fails_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    monkeypatch.delenv("DECISION_AID_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="DECISION_AID_SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": sqlite_url, "DEPLOYMENT": "production"})


def test_development_without_secret_key_gets_a_random_one(monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> None:
    monkeypatch.delenv("DECISION_AID_SECRET_KEY", raising=False)
    first = create_app({"SQLALCHEMY_DATABASE_URI": sqlite_url, "DEPLOYMENT": "development"})
    second = create_app({"SQLALCHEMY_DATABASE_URI": sqlite_url, "DEPLOYMENT": "development"})
    assert len(first.config["SECRET_KEY"]) >= 32
    assert first.config["SECRET_KEY"] != second.config["SECRET_KEY"]


def test_production_forces_secure_cookies(sqlite_url: str) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": sqlite_url, "DEPLOYMENT": "production",
                      "SECRET_KEY": "k" * 64, "SESSION_COOKIE_SECURE": False})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert app.config["DEBUG"] is False


def test_unknown_deployment_is_refused(sqlite_url: str) -> None:
    with pytest.raises(ConfigError, match="DECISION_AID_DEPLOYMENT"):
        create_app({"SQLALCHEMY_DATABASE_URI": sqlite_url, "DEPLOYMENT": "staging"})
