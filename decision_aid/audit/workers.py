"""Run a read-only task on its own database connection in a forked process.

Why processes: SHA-256 over a few hundred bytes holds Python's GIL (hashlib lets it go only from
2 KiB), so threads cannot hash two halves of the log at once; two processes can (quality target
T18: a 2-process verifier in at most 0.65 times the one-process time).

Why fork and a new engine: a forked child starts at once with everything imported (a spawned
one would import the app again, longer than hashing a million entries takes). It must not touch
the parent's connections (SQLite forbids using a connection across fork), so it opens its own
from the URL and leaves with `os._exit` (multiprocessing's fork child does), which runs no
finalizer on the inherited ones.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable
from multiprocessing.connection import Connection as Pipe
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

Task = Callable[[Connection], Any]


class WorkerError(RuntimeError):
    """The child failed before it could report (its message is kept, never its traceback)."""


def fork_available() -> bool:
    """Forking is what makes a child cheap; without it (Windows, macOS default) stay in-process."""
    return "fork" in mp.get_all_start_methods()


def _child(url: str, task: Task, pipe: Pipe) -> None:
    """In the child: a fresh engine, one transaction, the task's picklable result or its error."""
    try:
        engine = create_engine(url, poolclass=NullPool)
        try:
            with engine.connect() as conn, conn.begin():
                outcome: tuple[str, Any] = ("ok", task(conn))
        finally:
            engine.dispose()
    except BaseException as exc:  # reported to the parent as one line
        outcome = ("error", f"{type(exc).__name__}: {exc}")
    pipe.send(outcome)
    pipe.close()


class Pending:
    """A started child; `result()` waits for it."""

    def __init__(self, url: str, task: Task) -> None:
        context = mp.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=_child, args=(url, task, send), daemon=True)
        self._process.start()
        send.close()

    def result(self) -> Any:
        """The task's return value; WorkerError if the child failed or died."""
        try:
            status, value = self._receive.recv()
        except EOFError as exc:
            raise WorkerError("the verifying process stopped without a result") from exc
        finally:
            self._receive.close()
            self._process.join()
        if status != "ok":
            raise WorkerError(value)
        return value


def start(conn: Connection, task: Task) -> Pending:
    """Run `task(connection)` in a forked child on a new connection to `conn`'s database."""
    url = conn.engine.url.render_as_string(hide_password=False)
    return Pending(url, task)
