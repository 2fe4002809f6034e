"""Writer processes for the concurrency and kill -9 tests (run with spawn, or as a script).

Each process builds a minimal Flask app on the shared database URL (the same extensions, database
hooks and audit code as the real app, without blueprints or the rule set, so it starts quickly).

As a script: `python -m tests.integration.audit.writers URL RUN` appends forever, printing
"RUN N SEQ" after each commit returns, i.e. only for acknowledged events.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask


def minimal_app(url: str) -> Flask:
    """A bare app with the database extension and our SQLite/PostgreSQL session hooks."""
    from decision_aid import database  # noqa: F401  (pragmas and BEGIN IMMEDIATE hook)
    from decision_aid.extensions import db

    app = Flask("audit-writer")
    options = {"connect_args": {"timeout": 30}} if url.startswith("sqlite") else {}
    app.config.update(SQLALCHEMY_DATABASE_URI=url, SQLALCHEMY_ENGINE_OPTIONS=options)
    db.init_app(app)
    return app


@contextmanager
def immediate_transaction() -> Iterator[None]:
    """What write_transaction() does: BEGIN IMMEDIATE first, commit at the end."""
    from decision_aid.database import IMMEDIATE
    from decision_aid.extensions import db

    session = db.session()
    session.connection(execution_options={IMMEDIATE: True})
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise


def append_worker(url: str, count: int, writer: int) -> list[float]:
    """Append `count` events, one per transaction; returns each append's latency in seconds."""
    from decision_aid import audit
    from decision_aid.extensions import db

    app = minimal_app(url)
    latencies = []
    with app.app_context():
        for n in range(count):
            started = time.perf_counter()
            with immediate_transaction():
                audit.record_event(
                    audit.events.RECORD_VIEWED, actor=None, decision_ref=f"DA-W{writer}",
                    data={"writer": writer, "n": n},
                )
            latencies.append(time.perf_counter() - started)
        db.session.remove()
        db.engine.dispose()
    return latencies


def timed_append_worker(
    url: str, count: int, writer: int, fair_lock: str | None = None
) -> dict[str, Any]:
    """As `append_worker`, timing each phase: waiting for the write lock (SQLite BEGIN IMMEDIATE;
    on PostgreSQL the advisory lock is inside `record_event`), the append, and the commit.

    An append refused with "database is locked" (the busy timeout ran out) is rolled back,
    counted and kept in `total` with the time it took, so the percentiles include it.
    `fair_lock` (an experiment, not what the app does): a file to `flock` around each write
    transaction, so waiting writers block in the kernel instead of SQLite's sleep-and-retry.
    """
    import fcntl

    from sqlalchemy.exc import OperationalError

    from decision_aid import audit
    from decision_aid.database import IMMEDIATE
    from decision_aid.extensions import db

    app = minimal_app(url)
    out: dict[str, Any] = {"total": [], "lock": [], "append": [], "commit": [], "errors": 0}
    lock_fd = os.open(fair_lock, os.O_RDWR | os.O_CREAT) if fair_lock else None
    with app.app_context():
        _warm_up()
        session = db.session()
        for n in range(count):
            started = time.perf_counter()
            if lock_fd is not None:
                fcntl.flock(lock_fd, fcntl.LOCK_EX)
            try:
                session.connection(execution_options={IMMEDIATE: True})
                locked = time.perf_counter()
                audit.record_event(
                    audit.events.RECORD_VIEWED, actor=None, decision_ref=f"DA-W{writer}",
                    data={"writer": writer, "n": n},
                )
                appended = time.perf_counter()
                session.commit()
            except OperationalError:
                session.rollback()
                out["errors"] += 1
                out["total"].append(time.perf_counter() - started)
                continue
            finally:
                if lock_fd is not None:
                    fcntl.flock(lock_fd, fcntl.LOCK_UN)
            finished = time.perf_counter()
            out["total"].append(finished - started)
            out["lock"].append(locked - started)
            out["append"].append(appended - locked)
            out["commit"].append(finished - appended)
        db.session.remove()
        db.engine.dispose()
    return out


def _warm_up() -> None:
    """Connect and configure the ORM mappers before the timed part (first use costs ~100 ms)."""
    from decision_aid.audit.chain import read_head
    from decision_aid.extensions import db

    read_head(db.session())
    db.session.rollback()


def acknowledging_writer(url: str, run: int, ack_file: str | None = None) -> None:
    """Append until killed; acknowledge each event (one line) only once its commit has returned.

    Acks go to stdout, or with `ack_file` to a file opened O_APPEND, one write() per line, so a
    kill can never leave half a line.
    """
    from decision_aid import audit

    fd = os.open(ack_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT) if ack_file else 1
    app = minimal_app(url)
    with app.app_context():
        _warm_up()
        os.write(fd, f"ready {run}\n".encode())
        n = 0
        while True:
            with immediate_transaction():
                event = audit.record_event(
                    audit.events.DECISION_SUBMITTED, actor=None, decision_ref=f"DA-K{run}",
                    data={"run": run, "n": n},
                )
                seq = event.seq
            os.write(fd, f"ack {run} {n} {seq}\n".encode())
            n += 1


if __name__ == "__main__":
    acknowledging_writer(sys.argv[1], int(sys.argv[2]))
