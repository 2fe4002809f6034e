"""Database set-up shared by every area: SQLite pragmas, immediate write transactions, 503 on outage.

SQLite's default deferred transactions let two writers read the same audit head and then collide,
so every write that appends to the audit chain starts with BEGIN IMMEDIATE (the write lock first).
PostgreSQL uses an advisory transaction lock for the same purpose (see decision_aid.audit).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from decision_aid.extensions import db

IMMEDIATE = "decision_aid_immediate"


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """WAL for concurrent readers, FULL sync so an acknowledged commit survives a crash."""
    if type(dbapi_connection).__module__.split(".")[0] != "sqlite3":
        return
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (pysqlite recipe)
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "synchronous=FULL",
        "foreign_keys=ON",
        "secure_delete=ON",
        "busy_timeout=10000",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn: Connection) -> None:
    """Emit BEGIN, or BEGIN IMMEDIATE for write transactions, on SQLite.

    In WAL mode a transaction that has read and then tries to write, after another process
    committed, fails at once with "database is locked" (the busy timeout cannot help it).
    So every transaction of a POST (which will write) takes the write lock first and waits
    its turn; reads in GET requests stay concurrent.
    """
    if conn.dialect.name != "sqlite":
        return
    immediate = conn.get_execution_options().get(IMMEDIATE, False) or _request_writes()
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _request_writes() -> bool:
    from flask import has_request_context, request

    return has_request_context() and request.method not in {"GET", "HEAD", "OPTIONS"}


@contextmanager
def write_transaction() -> Iterator[None]:
    """Run a block as one transaction that holds the database write lock from its first statement.

    Whatever the request read before is committed (reads only) so the block starts a fresh
    transaction; the block's changes commit together or not at all.
    """
    session = db.session()  # the scoped_session proxies no in_transaction(): use the Session
    if session.in_transaction():
        session.commit()
    session.connection(execution_options={IMMEDIATE: True})
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise
