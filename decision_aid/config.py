"""Configuration: defaults, then DECISION_AID_* environment variables, then test overrides."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask

log = logging.getLogger(__name__)


class ConfigError(RuntimeError):
    """Raised when the app is started with unsafe or incomplete settings."""


DEPLOYMENTS = ("development", "test", "production")

DEFAULTS: dict[str, Any] = {
    "DEPLOYMENT": "development",
    "SQLALCHEMY_DATABASE_URI": "sqlite:///decision_aid.sqlite3",
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    "MAX_CONTENT_LENGTH": 64 * 1024,
    "SESSION_COOKIE_NAME": "decision_aid_session",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "IDLE_TIMEOUT_MINUTES": 15,
    "ABSOLUTE_TIMEOUT_HOURS": 12,
    "SIGN_IN_MAX_FAILURES": 10,
    "SIGN_IN_WINDOW_MINUTES": 15,
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the server-side session
    "WTF_CSRF_SSL_STRICT": True,
    "ORG_NAME": "Demo Safeguarding Partnership",
    "TRUSTED_PROXIES": 0,
    "BENCH_HELLO_ROUTE": False,
    "CHECKPOINT_DIR": None,
    "AUDIT_SIGNING_KEY_FILE": None,
    "KEK_FILE": None,
    "SECURITY_LOG_SYSLOG": None,
}

_TYPED_KEYS = {k for k, v in DEFAULTS.items() if isinstance(v, bool | int)}


def load_config(app: Flask, overrides: Mapping[str, Any] | None) -> None:
    """Apply the three layers in order of increasing priority, then check them."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("DECISION_AID", loads=_loads)
    if url := os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = url
    app.config.from_mapping(overrides or {})
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_db_url(app.config["SQLALCHEMY_DATABASE_URI"])
    _check_deployment(app)
    _require_secret_key(app)
    _apply_production_settings(app)
    _apply_engine_options(app)


def _loads(value: str) -> Any:
    """Parse env values: true/false and integers become typed, everything else stays a string."""
    lowered = value.strip().lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    if lowered.lstrip("-").isdigit():
        return int(lowered)
    return value


def normalise_db_url(url: str) -> str:
    """Rewrite legacy `postgres://` and bare `postgresql://` to the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _check_deployment(app: Flask) -> None:
    if app.config["DEPLOYMENT"] not in DEPLOYMENTS:
        raise ConfigError(
            f"DECISION_AID_DEPLOYMENT must be one of {', '.join(DEPLOYMENTS)}, "
            f"not {app.config['DEPLOYMENT']!r}"
        )


def _require_secret_key(app: Flask) -> None:
    """No default secret: generate a throwaway one only where nothing real is protected."""
    if app.config.get("SECRET_KEY"):
        return
    if app.config["DEPLOYMENT"] == "production":
        raise ConfigError(
            "DECISION_AID_SECRET_KEY is not set: production needs a long random secret key"
        )
    app.config["SECRET_KEY"] = secrets.token_hex(32)
    log.warning("DECISION_AID_SECRET_KEY not set; using a random key for this process only")


def _apply_production_settings(app: Flask) -> None:
    if app.config["DEPLOYMENT"] != "production":
        return
    app.config.update(
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="__Host-decision_aid_session",
        PREFERRED_URL_SCHEME="https",
        DEBUG=False,
    )


def _apply_engine_options(app: Flask) -> None:
    """Fail fast when the database is away (503 rather than a hanging worker)."""
    url: str = app.config["SQLALCHEMY_DATABASE_URI"]
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if url.startswith("postgresql"):
        options.setdefault("pool_pre_ping", True)
        options.setdefault("pool_timeout", 3)
        options.setdefault("connect_args", {"connect_timeout": 3})
    elif url.startswith("sqlite"):
        options.setdefault("connect_args", {"timeout": 10})
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
