"""Database plumbing for tests: migrations to head, and throwaway PostgreSQL databases."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def postgres_admin_url() -> str | None:
    """The server CI points us at (its own database is only used to create and drop others)."""
    return os.environ.get("DECISION_AID_TEST_DATABASE_URL") or None


def migrate_to_head(url: str, tmp: Path) -> None:
    """Run the real Alembic migrations, so tests prove they work on this backend."""
    from flask_migrate import upgrade

    from decision_aid import create_app
    from decision_aid.extensions import db
    from tests.conftest import base_config

    app = create_app(base_config(url, tmp))
    with app.app_context():
        upgrade()
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


@contextmanager
def postgres_database(template: str | None = None, *, admin_url: str | None = None,
                      prefix: str = "da_test") -> Iterator[tuple[str, str]]:
    """Create a uniquely named database (optionally from a template) and drop it afterwards.

    Tests use the server in DECISION_AID_TEST_DATABASE_URL; the benchmarks pass their own.
    """
    from decision_aid.config import normalise_db_url

    admin = admin_url or postgres_admin_url()
    assert admin, "DECISION_AID_TEST_DATABASE_URL is not set"
    admin = normalise_db_url(admin)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    clause = f' TEMPLATE "{template}"' if template else ""
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
    try:
        yield name, make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()
