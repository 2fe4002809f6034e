"""The C helpers for SQLite (decision_aid/_sqlitec.c via sqlite_native.py): built here, used only
on a handle that checks out, and the finer busy handler that app connections get.

The hash pass has its own tests (tests/unit/audit/test_native.py). Nothing here times anything:
the busy handler is shown to wait for a lock and take it, and to give up after its timeout.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

import decision_aid.database  # noqa: F401 - registers the SQLite connect hook under test
from decision_aid import sqlite_native
from decision_aid.database import BUSY_TIMEOUT_MS


@pytest.fixture
def path(tmp_path: Path) -> Path:
    made = tmp_path / "locks.sqlite3"
    with sqlite3.connect(made) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (x)")
    return made


@pytest.fixture
def holder(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection holding the write lock (BEGIN IMMEDIATE) until the test releases it."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")
    yield conn
    if conn.in_transaction:
        conn.rollback()
    conn.close()


def test_the_module_is_built_on_our_machines() -> None:
    """`make setup` builds it; a build that silently failed (setup.py marks it optional) shows here."""
    assert sqlite_native.built()


def test_only_a_sqlite_connection_whose_handle_checks_out_is_used(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        assert sqlite_native.usable(conn)
        assert not sqlite_native.usable(object())
    finally:
        conn.close()
    assert not sqlite_native.usable(conn)  # closed: the handle is gone


def test_the_busy_handler_waits_for_the_lock_and_then_takes_it(path, holder) -> None:
    waiter = sqlite3.connect(path, isolation_level=None)
    assert sqlite_native.set_busy_handler(waiter, 10_000)
    releaser = threading.Timer(0.05, holder.commit)
    releaser.start()
    try:
        waiter.execute("BEGIN IMMEDIATE")  # returns once the holder has committed
        waiter.execute("INSERT INTO t VALUES (1)")
        waiter.commit()
        assert waiter.execute("SELECT count(*) FROM t").fetchone() == (1,)
    finally:
        releaser.join()
        waiter.close()


def test_the_busy_handler_gives_up_after_its_timeout(path, holder) -> None:
    waiter = sqlite3.connect(path, isolation_level=None)
    assert sqlite_native.set_busy_handler(waiter, 20)
    try:
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            waiter.execute("BEGIN IMMEDIATE")
    finally:
        waiter.close()


@pytest.mark.parametrize(("setting", "busy_timeout"), [(None, 0), ("sqlite", BUSY_TIMEOUT_MS)])
def test_app_connections_get_the_fine_handler_unless_told(path, monkeypatch, setting,
                                                          busy_timeout) -> None:
    """Installing a busy handler clears SQLite's busy_timeout, which reads 0 then."""
    if setting is None:
        monkeypatch.delenv("DECISION_AID_SQLITE_BUSY_HANDLER", raising=False)
    else:
        monkeypatch.setenv("DECISION_AID_SQLITE_BUSY_HANDLER", setting)
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == busy_timeout
    finally:
        engine.dispose()
