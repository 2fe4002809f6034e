"""Database set-up shared by every area: SQLite pragmas, immediate write transactions, 503 on outage.

SQLite's default deferred transactions let two writers read the same audit head and then collide,
so every write that appends to the audit chain starts with BEGIN IMMEDIATE (the write lock first).
PostgreSQL uses an advisory transaction lock for the same purpose (see decision_aid.audit).

On SQLite every transaction of a POST takes the write lock from its first statement (see
`_sqlite_begin`), which is safe but makes a costly POST hold the lock while it only reads. A view
marked `@reads_first` promises to do all its writes inside `write_transaction()`; its other
transactions stay deferred (concurrent with every writer), and a write outside the promise is
refused at once (`WriteOutsideWriteTransaction`) rather than failing now and then under load.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.pool import Pool

from decision_aid import write_queue
from decision_aid.extensions import db

F = TypeVar("F", bound=Callable[..., Any])

IMMEDIATE = "decision_aid_immediate"
READS_FIRST = "__reads_first__"
IN_WRITE_TRANSACTION = "decision_aid_in_write_transaction"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class WriteOutsideWriteTransaction(RuntimeError):
    """A `@reads_first` view wrote outside `write_transaction()`: a programming error.

    On SQLite such a write would upgrade a deferred transaction that has already read, which
    fails at once with "database is locked" whenever another writer committed meanwhile.
    """


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
    its turn; reads in GET requests and in `@reads_first` views stay concurrent.
    """
    if conn.dialect.name != "sqlite":
        return
    immediate = conn.get_execution_options().get(IMMEDIATE, False) or _request_writes()
    if not immediate:
        conn.exec_driver_sql("BEGIN")
        return
    queue = _write_queue(conn)
    if queue is not None:
        queue.acquire()  # first come, first served (write_queue.py); False: SQLite's lock alone
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        if queue is not None:
            queue.release()
        raise


def _write_queue(conn: Connection) -> write_queue.WriteQueue | None:
    """This pooled SQLite connection's place in the write queue (None: it does not queue)."""
    fairy = conn.connection
    return write_queue.for_connection(fairy.driver_connection, fairy.info)


@event.listens_for(Engine, "commit")
def _commit_then_hand_over(conn: Connection) -> None:
    """SQLite with a queue ticket: commit here, then let the next writer in.

    SQLAlchemy calls this just before its own DBAPI commit, which then finds no transaction
    and does nothing. Committing here lets the ticket go the moment the commit is durable
    (releasing it before the commit would wake the next writer into a lock still held). A
    failed commit is rolled back at once (SQLAlchemy has then ended the transaction, and no
    rollback event would follow) and raised as SQLAlchemy's own error, as its commit would
    have raised it.
    """
    queue = _held_queue(conn)
    if queue is None:
        return
    try:
        _end_transaction(conn, "COMMIT")
    except sqlite3.Error as exc:
        with suppress(sqlite3.Error):
            _end_transaction(conn, "ROLLBACK")
        raise DBAPIError.instance("COMMIT", None, exc, sqlite3.Error) from exc
    finally:
        queue.release()


@event.listens_for(Engine, "rollback")
def _roll_back_then_hand_over(conn: Connection) -> None:
    """As `_commit_then_hand_over`, for a rollback (its errors are left to SQLAlchemy's own)."""
    queue = _held_queue(conn)
    if queue is not None:
        with suppress(sqlite3.Error):
            _end_transaction(conn, "ROLLBACK")
        queue.release()


def _end_transaction(conn: Connection, statement: str) -> None:
    """COMMIT or ROLLBACK on the DBAPI connection, if a transaction is open there."""
    dbapi_connection: Any = conn.connection.driver_connection
    if dbapi_connection.in_transaction:
        dbapi_connection.execute(statement)


def _held_queue(conn: Connection) -> write_queue.WriteQueue | None:
    if conn.dialect.name != "sqlite" or conn.invalidated:
        return None
    queue = conn.connection.info.get("write_queue")
    return queue if queue is not None and queue.holding else None


@event.listens_for(Pool, "checkin")
def _release_on_checkin(dbapi_connection: Any, connection_record: Any) -> None:
    """A ticket never outlives the checkout it was taken in (a transaction that ended unseen)."""
    queue = connection_record.info.get("write_queue") if connection_record else None
    if queue is not None:
        queue.release()


@event.listens_for(Pool, "close")
def _close_queue_file(dbapi_connection: Any, connection_record: Any) -> None:
    """The connection is closed: so is its queue file (dropping any lock it held)."""
    queue = connection_record.info.pop("write_queue", None) if connection_record else None
    if queue is not None:
        queue.close()


def _request_writes() -> bool:
    """Every transaction of a non-GET request writes, unless its view is `@reads_first`."""
    from flask import has_request_context, request

    if not has_request_context() or request.method in SAFE_METHODS:
        return False
    return not _view_reads_first()


def reads_first(view: F) -> F:
    """Declare that a POST view only reads until it calls `write_transaction()` for all its writes.

    For costly POSTs (a decision submit evaluates the rules, 7-67 ms): on SQLite their reads then
    run in deferred transactions, so the write lock is held only for the block that writes and
    other requests are not queued behind the reads. Every write of such a request, including
    the server-side session save, must go through `write_transaction()`; one that does not is
    refused with WriteOutsideWriteTransaction on every database, so tests catch it.
    """
    setattr(view, READS_FIRST, True)
    return view


def _view_reads_first() -> bool:
    """Whether the request's view is `@reads_first`; matched here if Flask has not matched it yet.

    Flask opens the session (our first query) before it matches the URL, so the session load's
    transaction would otherwise not know its view. A URL that does not match counts as not.
    """
    from flask import current_app, request
    from flask.globals import request_ctx
    from werkzeug.exceptions import HTTPException

    endpoint = request.url_rule.endpoint if request.url_rule is not None else None
    adapter = request_ctx.url_adapter
    if endpoint is None and request.routing_exception is None and adapter is not None:
        try:
            rule, _ = adapter.match(return_rule=True)
        except HTTPException:  # 404, 405, redirect: Flask reports it after the session opens
            return False
        endpoint = rule.endpoint
    view = current_app.view_functions.get(endpoint) if endpoint else None
    return bool(getattr(view, READS_FIRST, False))


def _in_reads_first_request() -> bool:
    from flask import has_request_context, request

    return has_request_context() and request.method not in SAFE_METHODS and _view_reads_first()


def refuse_stray_write(session: Session, what: str) -> None:
    """Raise WriteOutsideWriteTransaction for a write outside `write_transaction()` in a
    `@reads_first` request; for writes sent on the connection, which no ORM hook sees."""
    if session.info.get(IN_WRITE_TRANSACTION) or not _in_reads_first_request():
        return
    raise WriteOutsideWriteTransaction(
        f"{what} outside write_transaction() in a @reads_first view: move it into one")


@event.listens_for(Session, "before_flush")
def _flush_only_in_write_transaction(session: Session, flush_context: UOWTransaction,
                                     instances: Any) -> None:
    """ORM changes of a `@reads_first` request must be flushed inside write_transaction()."""
    refuse_stray_write(session, "an ORM flush")


@event.listens_for(Session, "do_orm_execute")
def _dml_only_in_write_transaction(state: ORMExecuteState) -> None:
    """INSERT/UPDATE/DELETE statements of a `@reads_first` request likewise."""
    if state.is_insert or state.is_update or state.is_delete:
        refuse_stray_write(state.session, "an INSERT, UPDATE or DELETE")


@contextmanager
def write_transaction(*, keep_loaded: bool = False) -> Iterator[None]:
    """Run a block as one transaction that holds the database write lock from its first statement.

    Whatever the request read before is committed (reads only) so the block starts a fresh
    transaction; the block's changes commit together or not at all. That commit expires every
    loaded object, so the block reloads what it touches. `keep_loaded=True` skips the expiry
    (the user and organisation rows stay as read a moment before) for a caller that re-reads,
    under the lock, every row whose current state matters (a submit re-reads its draft).
    """
    session = db.session()  # the scoped_session proxies no in_transaction(): use the Session
    if session.in_transaction():
        _end_read_transaction(session, expire=not keep_loaded)
    outer = session.info.get(IN_WRITE_TRANSACTION, False)
    session.info[IN_WRITE_TRANSACTION] = True
    try:
        session.connection(execution_options={IMMEDIATE: True})
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info[IN_WRITE_TRANSACTION] = outer


def _end_read_transaction(session: Session, *, expire: bool) -> None:
    """Commit the reads so far, expiring what they loaded unless told not to."""
    before = session.expire_on_commit
    session.expire_on_commit = expire
    try:
        session.commit()
    finally:
        session.expire_on_commit = before
