"""SQLite's audit columns are computed from the hashed bytes (decision_aid/audit/schema.py).

No statement can give a column a value other than the one in its event's bytes, even with the
append-only triggers dropped; a rewritten table definition is named by the verifier; migration
0010 moves an existing log across (and back) without changing a byte or a hash, and refuses a
log whose stored columns were altered.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError, OperationalError

from decision_aid import audit
from decision_aid.audit.schema import SQLITE_TABLE_SQL, definition_problem
from decision_aid.audit.verify import verify_connection
from decision_aid.extensions import db
from tests.integration.audit import tampering as t

BEFORE, COMPUTED = "0009_audit_list_indexes", "0010_audit_computed_columns"
# the columns and the hashes of every event, as read through SQLAlchemy
EVENT = text("SELECT seq, occurred_at, actor_id, event_type, case_ref, decision_ref, payload, "
             "prev_hash, entry_hash FROM audit_event ORDER BY seq")


@pytest.fixture(autouse=True)
def _sqlite_only(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL keeps stored columns, checked by the verifier")


def _events() -> list[tuple[Any, ...]]:
    rows = [tuple(row) for row in db.session.execute(EVENT)]
    db.session.remove()
    return rows


@pytest.mark.parametrize("column", t.COMPUTED_ON_SQLITE)
def test_computed_columns_cannot_change(app_ctx, append_many, column) -> None:
    append_many(5)
    with db.engine.connect() as conn, conn.begin() as transaction:
        t.bypass_triggers(conn)
        with pytest.raises(OperationalError, match="generated column"):
            conn.exec_driver_sql(f"UPDATE audit_event SET {column} = 'x' WHERE seq = 3")
        with pytest.raises(OperationalError, match="generated column"):
            conn.exec_driver_sql(
                f"INSERT INTO audit_event (seq, payload, prev_hash, entry_hash, {column}) "
                "VALUES (99, x'7b7d', 'p', 'e', 'x')")
        transaction.rollback()
    assert audit.verify_chain(use_latest_checkpoint=False).ok


def test_bytes_that_are_not_json_leave_the_row_readable_and_are_named(app_ctx, append_many):
    append_many(5)
    with db.engine.connect() as conn, conn.begin() as transaction:
        t.bypass_triggers(conn)
        conn.exec_driver_sql("UPDATE audit_event SET payload = x'7b7b' WHERE seq = 3")
        columns = conn.exec_driver_sql(
            "SELECT actor_id, event_type, occurred_at FROM audit_event WHERE seq = 3").one()
        result = verify_connection(conn)
        transaction.rollback()
    assert tuple(columns) == (None, None, None)
    assert (result.ok, result.first_bad_seq) == (False, 3)


def test_a_rewritten_table_definition_is_named(app_ctx, append_many) -> None:
    """A definition computing a column some other way (here: a fixed case reference) would make
    every search lie while every hash still matched; the verifier compares the definition."""
    append_many(5)
    altered = SQLITE_TABLE_SQL.replace("'$.case_ref'", "'$.event_type'")
    assert altered != SQLITE_TABLE_SQL
    with db.engine.connect() as conn:
        transaction = conn.begin()
        try:
            conn.exec_driver_sql("PRAGMA writable_schema = ON")
            conn.exec_driver_sql(
                "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'audit_event'",
                (altered,))
            result = verify_connection(conn)
        finally:
            transaction.rollback()
        conn.exec_driver_sql("PRAGMA writable_schema = OFF")
    assert not result.ok and result.first_bad_seq is None
    assert "definition" in result.problem and "FAILED" in result.summary()
    with db.engine.connect() as conn:
        assert definition_problem(conn) is None


def test_migration_moves_the_log_across_and_back_unchanged(app: Flask, append_many) -> None:
    with app.app_context():
        append_many(40)
        before = _events()
        downgrade(revision=BEFORE)
        db.session.remove()
        assert "GENERATED" not in _table_sql()
        assert _events() == before
        upgrade(revision=COMPUTED)
        db.session.remove()
        assert _table_sql() == SQLITE_TABLE_SQL
        assert _events() == before
        assert {i["name"] for i in inspect(db.engine).get_indexes("audit_event")} >= {
            "ix_audit_event_decision_ref_seq", "ix_audit_event_occurred_at_seq"}
        with pytest.raises(DBAPIError, match="append-only"):
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DELETE FROM audit_event WHERE seq = 1")
        assert audit.verify_chain(use_latest_checkpoint=False).ok


def test_migration_refuses_a_log_whose_columns_were_altered(app: Flask, append_many,
                                                           capfd: pytest.CaptureFixture[str]):
    with app.app_context():
        append_many(40)
        downgrade(revision=BEFORE)
        db.session.remove()
        with db.engine.begin() as conn:
            t.bypass_triggers(conn)
            conn.exec_driver_sql("UPDATE audit_event SET case_ref = 'CASE-OTHER' WHERE seq = 17")
            t.restore_triggers(conn)
        with pytest.raises(SystemExit):  # Flask-Migrate logs the error and exits 1
            upgrade(revision=COMPUTED)
        assert "audit_event entry 17: a column differs" in capfd.readouterr().err
        db.session.remove()
        assert "GENERATED" not in _table_sql()  # nothing was rebuilt
        assert db.session.execute(text(
            "SELECT case_ref FROM audit_event WHERE seq = 17")).scalar() == "CASE-OTHER"


def _table_sql() -> str:
    sql = db.session.execute(text(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'audit_event'")).scalar()
    db.session.remove()
    return str(sql)
