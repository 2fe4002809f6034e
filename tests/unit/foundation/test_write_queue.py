"""The SQLite write queue (decision_aid/write_queue.py) and its hooks in database.py.

Order, hand-over on death and the fallbacks are checked on the queue itself with forked
processes; the hooks are checked through SQLAlchemy on a SQLite file: a write transaction holds
a ticket until its commit or rollback has finished, and a failed COMMIT is raised as
SQLAlchemy's error with nothing stored.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy.exc
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from decision_aid import write_queue
from decision_aid.database import IMMEDIATE
from decision_aid.write_queue import WriteQueue

pytestmark = pytest.mark.skipif(not write_queue.enabled(), reason="needs Linux OFD locks")
FORK = mp.get_context("fork")


def _tickets_taken(database: Path) -> int:
    raw = (database.parent / (database.name + write_queue.SUFFIX)).read_bytes()[:8]
    return int.from_bytes(raw, "little") if len(raw) == 8 else 0


def _wait_until(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def _in_turn(database: str, log: str, name: str) -> None:
    """A child: wait for its turn, then write start and end lines with a pause between."""
    queue = WriteQueue(database)
    assert queue.acquire()
    with open(log, "a") as out:
        out.write(f"start {name}\n")
        out.flush()
        time.sleep(0.02)
        out.write(f"end {name}\n")
    queue.release()
    os._exit(0)


def test_writers_go_one_at_a_time_in_the_order_they_came(tmp_path: Path) -> None:
    database, log = tmp_path / "q.db", tmp_path / "order.log"
    first = WriteQueue(str(database))
    assert first.acquire()
    children = []
    for n in range(5):  # each child takes its ticket before the next one starts
        child = FORK.Process(target=_in_turn, args=(str(database), str(log), str(n)))
        child.start()
        children.append(child)
        _wait_until(lambda n=n: _tickets_taken(database) == n + 2)
    time.sleep(0.05)
    assert not log.exists()  # all five wait while the first ticket is held
    first.release()
    for child in children:
        child.join(10)
        assert child.exitcode == 0
    expected = [line for n in range(5) for line in (f"start {n}", f"end {n}")]
    assert log.read_text().splitlines() == expected


def _hold_forever(database: str) -> None:
    queue = WriteQueue(database)
    assert queue.acquire()
    time.sleep(600)


def test_a_holder_that_dies_hands_over_to_the_next(tmp_path: Path) -> None:
    database = tmp_path / "q.db"
    holder = FORK.Process(target=_hold_forever, args=(str(database),))
    holder.start()
    _wait_until(lambda: (tmp_path / "q.db-writequeue").exists() and _tickets_taken(database) == 1)
    got: list[bool] = []
    waiter = threading.Thread(target=lambda: got.append(WriteQueue(str(database)).acquire()))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive()  # queued behind the holder
    assert holder.pid is not None
    os.kill(holder.pid, signal.SIGKILL)
    holder.join()
    waiter.join(10)
    assert got == [True]


def test_a_process_never_queues_behind_itself(tmp_path: Path) -> None:
    database = str(tmp_path / "q.db")
    first, second = WriteQueue(database), WriteQueue(database)
    assert first.acquire()
    assert second.acquire() is False  # at once: SQLite's busy timeout decides, as before
    first.release()
    assert second.acquire()
    second.release()


def test_an_unusable_queue_file_falls_back_to_sqlites_lock(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    queue = WriteQueue(str(tmp_path / "no-such-folder" / "q.db"))
    with caplog.at_level(logging.WARNING, logger="decision_aid.write_queue"):
        assert queue.acquire() is False
    assert not queue.holding
    assert "write queue not used" in caplog.text
    assert WriteQueue(str(tmp_path / "no-such-folder" / "q.db")).acquire() is False  # no leftovers


@pytest.fixture()
def engine(tmp_path: Path) -> Any:
    engine = create_engine(f"sqlite:///{tmp_path / 'e.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        conn.exec_driver_sql(
            "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id)"
            " DEFERRABLE INITIALLY DEFERRED)")
    yield engine
    engine.dispose()


def _queue_of(conn: Any) -> WriteQueue:
    queue = conn.connection.info["write_queue"]
    assert isinstance(queue, WriteQueue)
    return queue


def _rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM child")).scalar_one())


def test_a_write_transaction_holds_a_ticket_until_its_commit_is_done(engine: Engine) -> None:
    with engine.connect().execution_options(**{IMMEDIATE: True}) as conn:
        with conn.begin():
            conn.exec_driver_sql("INSERT INTO parent VALUES (1)")
            conn.exec_driver_sql("INSERT INTO child VALUES (1, 1)")
            queue = _queue_of(conn)
            assert queue.holding
        assert not queue.holding
        with conn.begin():
            conn.exec_driver_sql("INSERT INTO child VALUES (2, 1)")
            assert queue.holding
            conn.rollback()
        assert not queue.holding
    assert _rows(engine) == 1


def test_deferred_transactions_take_no_ticket(engine: Engine, tmp_path: Path) -> None:
    with engine.connect() as conn, conn.begin():  # reads (and the fixture's DDL) are deferred
        conn.exec_driver_sql("SELECT count(*) FROM child")
    assert not (tmp_path / ("e.db" + write_queue.SUFFIX)).exists()


def test_a_failed_commit_is_sqlalchemys_error_and_stores_nothing(engine: Engine) -> None:
    with engine.connect().execution_options(**{IMMEDIATE: True}) as conn:
        transaction = conn.begin()
        conn.exec_driver_sql("INSERT INTO child VALUES (1, 99)")  # no parent 99: fails at COMMIT
        queue = _queue_of(conn)
        with pytest.raises(sqlalchemy.exc.IntegrityError, match="FOREIGN KEY"):
            transaction.commit()
        assert not queue.holding  # rolled back and handed over at once
        assert not conn.connection.driver_connection.in_transaction
    assert _rows(engine) == 0
    with engine.connect().execution_options(**{IMMEDIATE: True}) as conn, conn.begin():
        assert _queue_of(conn).holding  # the queue still works afterwards
        conn.exec_driver_sql("INSERT INTO parent VALUES (5)")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM parent")).scalar_one() == 1


def test_no_queue_for_an_in_memory_database_or_when_switched_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    memory = sqlite3.connect(":memory:")
    assert write_queue.for_connection(memory, {}) is None
    on_disk = sqlite3.connect(tmp_path / "f.db")
    assert isinstance(write_queue.for_connection(on_disk, {}), WriteQueue)
    monkeypatch.setenv(write_queue.SETTING, "0")
    assert write_queue.for_connection(on_disk, {}) is None
    memory.close()
    on_disk.close()


def test_the_ticket_is_handed_over_only_after_the_commit(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from decision_aid import database

    seen: list[tuple[str, bool]] = []
    end_transaction = database._end_transaction

    def spy(conn: Any, statement: str) -> None:
        seen.append((statement, _queue_of(conn).holding))
        end_transaction(conn, statement)

    monkeypatch.setattr(database, "_end_transaction", spy)
    with engine.connect().execution_options(**{IMMEDIATE: True}) as conn:
        with conn.begin():
            conn.exec_driver_sql("INSERT INTO parent VALUES (1)")
        assert not _queue_of(conn).holding
    assert seen == [("COMMIT", True)]


def test_an_interrupted_wait_leaves_no_ticket_or_claim(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = str(tmp_path / "q.db")
    first = WriteQueue(database)
    assert first.acquire()
    first.release()  # ticket 0 is done: the next acquire waits on its byte

    def interrupted(fd: int, slot: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(WriteQueue, "_wait_for", staticmethod(interrupted))
    second = WriteQueue(database)
    with pytest.raises(KeyboardInterrupt):
        second.acquire()
    assert not second.holding
    monkeypatch.undo()
    assert first.acquire()  # not refused as "this process already holds one"
    first.release()
