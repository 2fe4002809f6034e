"""Deployment settings: trusted proxy headers, and the PostgreSQL roles in deploy/postgres-roles.sql."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask, request
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from decision_aid.audit.indexes import check_indexes
from tests.conftest import base_config
from tests.fixtures_db import migrate_to_head, postgres_admin_url, postgres_database

ROOT = Path(__file__).resolve().parents[3]
HEADERS = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https",
           "X-Forwarded-Host": "decision-aid.example.org"}


def _seen(proxies: int, database_url: str, tmp_path: Path) -> tuple[str, str]:
    """The client address and scheme a view sees behind a proxy that sends X-Forwarded-*."""
    from decision_aid import create_app
    from decision_aid.auth.access import public

    app: Flask = create_app({**base_config(database_url, tmp_path), "TRUSTED_PROXIES": proxies})
    app.add_url_rule("/probe", "probe", public(lambda: f"{request.remote_addr} {request.scheme}"))
    body = app.test_client().get("/probe", headers=HEADERS, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    addr, scheme = body.get_data(as_text=True).split()
    return addr, scheme


@pytest.mark.parametrize(("proxies", "addr", "scheme"), [
    (1, "203.0.113.7", "https"),
    (0, "10.0.0.2", "http"),
])
def test_trusted_proxies_decides_whether_forwarded_headers_count(
        database_url: str, tmp_path: Path, proxies: int, addr: str, scheme: str) -> None:
    assert _seen(proxies, database_url, tmp_path) == (addr, scheme)


@pytest.mark.skipif(not postgres_admin_url(), reason="needs DECISION_AID_TEST_DATABASE_URL (PostgreSQL)")
def test_app_role_cannot_change_append_only_tables(tmp_path: Path) -> None:
    sql = (ROOT / "deploy" / "postgres-roles.sql").read_text()
    suffix = tmp_path.name[-8:].lower().replace("-", "_")
    owner, app_role = f"da_owner_{suffix}", f"da_app_{suffix}"
    sql = sql.replace("decision_aid_owner", owner).replace("decision_aid_app", app_role)
    admin = create_engine(str(postgres_admin_url()), isolation_level="AUTOCOMMIT")
    with postgres_database() as (name, url):
        sql = sql.replace("decision_aid_db", name)
        migrate_to_head(url, tmp_path)
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                for statement in _statements(sql):
                    conn.execute(text(statement))
                conn.execute(text(f"ALTER ROLE {app_role} LOGIN PASSWORD 'x'"))
            app_url = make_url(url).set(username=app_role, password="x")
            app_engine = create_engine(app_url, isolation_level="AUTOCOMMIT")
            with app_engine.connect() as conn:
                conn.execute(text("SELECT count(*) FROM audit_event")).scalar()
                conn.execute(text("UPDATE organisation SET name = name"))  # a mutable table: allowed
                for statement in ("UPDATE audit_event SET event_type = 'x'", "DELETE FROM audit_event",
                                  "TRUNCATE audit_event", "DELETE FROM decision",
                                  "UPDATE ruleset_sign_off SET notes = ''"):
                    with pytest.raises(DBAPIError, match="permission denied"):
                        conn.execute(text(statement))
            app_engine.dispose()
            checker = create_engine(app_url)  # the daily index check, in a transaction, may run
            with checker.connect() as conn, conn.begin():
                assert check_indexes(conn) is None
            checker.dispose()
        finally:
            engine.dispose()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                for role in (app_role, owner):
                    conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
            admin.dispose()


def _statements(sql: str) -> list[str]:
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")
             and not line.strip().startswith("\\")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
