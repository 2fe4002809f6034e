"""The database and the ORM refuse to change audit rows (quality target T14)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError

from decision_aid.audit.immutability import (
    AuditLogImmutableError,
    install_append_only_triggers,
    remove_append_only_triggers,
)
from decision_aid.extensions import db
from decision_aid.models import AuditEvent

STATEMENTS = {
    "update": "UPDATE audit_event SET entry_hash = prev_hash WHERE seq = 2",
    "delete": "DELETE FROM audit_event WHERE seq = 2",
    "delete_all": "DELETE FROM audit_event",
}


def _is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def _refused(sql: str, *, replica: bool = False) -> None:
    """Run `sql` as the table owner (a superuser in the tests) and expect the trigger to refuse."""
    with db.engine.connect() as conn:
        if replica:
            conn.exec_driver_sql("SET session_replication_role = replica")
        with pytest.raises(DBAPIError, match="append-only"):
            conn.exec_driver_sql(sql)
        conn.rollback()


@pytest.mark.parametrize("statement", sorted(STATEMENTS))
def test_update_and_delete_are_refused_by_the_database(app_ctx, append_many, statement) -> None:
    append_many(3)
    _refused(STATEMENTS[statement])
    assert db.session.query(AuditEvent).count() == 3


@pytest.mark.parametrize("statement", [*sorted(STATEMENTS), "truncate"])
def test_replica_mode_cannot_skip_the_triggers(app_ctx, append_many, statement) -> None:
    if not _is_postgres():
        pytest.skip("session_replication_role and TRUNCATE exist only on PostgreSQL")
    append_many(3)
    sql = STATEMENTS.get(statement, "TRUNCATE audit_event")
    _refused(sql)
    _refused(sql, replica=True)
    assert db.session.query(AuditEvent).count() == 3


def test_postgres_triggers_are_enabled_always(app_ctx) -> None:
    if not _is_postgres():
        pytest.skip("PostgreSQL trigger modes")
    rows = db.session.execute(text(
        "SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 'audit_event'::regclass "
        "AND NOT tgisinternal")).all()
    assert {name: mode for name, mode in rows} == {
        "audit_event_no_change": "A", "audit_event_no_truncate": "A"}


def test_an_app_role_without_update_rights_is_refused(app_ctx, append_many) -> None:
    """The documented GRANTs: the application role may only SELECT and INSERT audit rows."""
    if not _is_postgres():
        pytest.skip("database roles exist only on PostgreSQL")
    append_many(2)
    role = f"da_app_{uuid.uuid4().hex[:8]}"
    with db.engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} NOLOGIN")
        conn.exec_driver_sql(f"GRANT SELECT, INSERT ON audit_event TO {role}")
        conn.commit()
        try:
            for sql in (STATEMENTS["update"], STATEMENTS["delete"], "TRUNCATE audit_event"):
                conn.exec_driver_sql(f"SET ROLE {role}")  # rolled back with each failure
                with pytest.raises(DBAPIError, match="permission denied"):
                    conn.exec_driver_sql(sql)
                conn.rollback()
        finally:
            conn.rollback()
            conn.exec_driver_sql(f"DROP OWNED BY {role}")
            conn.exec_driver_sql(f"DROP ROLE {role}")
            conn.commit()
    assert db.session.query(AuditEvent).count() == 2


def test_orm_refuses_to_change_or_delete_an_event(app_ctx, append_many) -> None:
    append_many(2)
    event = db.session.get(AuditEvent, 1)
    event.event_type = "record.printed"
    with pytest.raises(AuditLogImmutableError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEvent, 1))
    with pytest.raises(AuditLogImmutableError):
        db.session.flush()
    db.session.rollback()
    for statement in (update(AuditEvent).values(case_ref="X"), delete(AuditEvent)):
        with pytest.raises(AuditLogImmutableError):
            db.session.execute(statement)
        db.session.rollback()
    assert db.session.get(AuditEvent, 1).event_type != "record.printed"


def test_triggers_can_be_installed_on_other_tables(app_ctx) -> None:
    """The helper other migrations use for decisions and reviews, tried on a scratch table."""
    with db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE scratch_log (id INTEGER PRIMARY KEY, note VARCHAR(20))")
        install_append_only_triggers(conn, "scratch_log")
        conn.exec_driver_sql("INSERT INTO scratch_log (id, note) VALUES (1, 'a')")
    with db.engine.connect() as conn:
        with pytest.raises(DBAPIError, match="append-only"):
            conn.exec_driver_sql("UPDATE scratch_log SET note = 'b'")
        conn.rollback()
    with db.engine.begin() as conn:
        remove_append_only_triggers(conn, "scratch_log")
        conn.exec_driver_sql("UPDATE scratch_log SET note = 'b'")
        assert conn.exec_driver_sql("SELECT note FROM scratch_log").scalar() == "b"


def test_unsafe_table_names_are_refused(app_ctx) -> None:
    with db.engine.connect() as conn, pytest.raises(ValueError):
        install_append_only_triggers(conn, "x; DROP TABLE app_user")
