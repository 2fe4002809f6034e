"""A first-come, first-served queue in front of SQLite's write lock (quality target T27).

Why: SQLite does not queue writers. A writer that finds the lock taken sleeps (1, 2, 5, 10, 15,
20 ... ms) and tries again, while the writer that just committed takes the lock straight back.
With four busy writers some appends waited 20 to 100 ms at p99 and up to two seconds at worst,
and a long enough burst makes `BEGIN IMMEDIATE` give up ("database is locked": a 503 for the
practitioner). Here each write transaction takes a ticket and waits, blocked in the kernel, for
the transaction before it to end; then `BEGIN IMMEDIATE` finds the lock free.

How: a small file beside the database (`<database>-writequeue`) holds the next ticket number,
taken under `flock`. Ticket t keeps an open-file-description (OFD) lock on byte 64 + t % SLOTS
from taking the ticket until its transaction has committed or rolled back, and waits with
F_OFD_SETLKW on the byte of ticket t - 1. Each waiter waits on a different byte, so exactly
one is woken per hand-over, in ticket order.

The queue only orders writers; SQLite's lock still keeps them apart. So whatever goes wrong
here costs time, never correctness: a process that dies drops its locks with its file
descriptors (its successor goes on); a connection on which the queue cannot be used (no OFD
locks, a read-only folder, an in-memory database, `DECISION_AID_SQLITE_WRITE_QUEUE=0`) takes
SQLite's lock the old way. A process never queues behind itself: while one of its connections
holds a ticket for a database, its other write transactions on that database skip the queue
and meet SQLite's busy timeout, as before (so a thread waiting for another thread of its own
process cannot deadlock). A holder in another process that hangs delays the queue until its
transaction ends or its process does (gunicorn's worker timeout, 30 s by default).
"""

from __future__ import annotations

import fcntl
import logging
import os
import struct
import threading
from typing import Any

from decision_aid.sqlite_native import main_file

log = logging.getLogger(__name__)

SETTING = "DECISION_AID_SQLITE_WRITE_QUEUE"
SUFFIX = "-writequeue"
SLOTS = 1 << 16  # bytes a ticket can lock; far more than writers that can wait at once
FIRST_SLOT = 64  # the ticket counter lives in bytes 0-7
_F_OFD_SETLK = getattr(fcntl, "F_OFD_SETLK", None)  # Linux 3.15+; None elsewhere
_F_OFD_SETLKW = getattr(fcntl, "F_OFD_SETLKW", None)
_held: set[str] = set()  # queue paths some connection of this process holds a ticket for
_held_lock = threading.Lock()
os.register_at_fork(after_in_child=_held.clear)  # a forked child holds no ticket of its own


def enabled() -> bool:
    """OFD locks exist here and the setting does not switch the queue off."""
    return _F_OFD_SETLKW is not None and os.environ.get(SETTING, "1") != "0"


def _lock_byte(fd: int, command: int, lock_type: int, offset: int) -> None:
    """fcntl on one byte; struct flock as Linux lays it out (l_pid must be 0 for OFD locks)."""
    fcntl.fcntl(fd, command, struct.pack("hhqqi4x", lock_type, os.SEEK_SET, offset, 1, 0))


class WriteQueue:
    """One connection's place in the queue for one database file (its own file description,
    so its locks are its own even beside other connections of the same process)."""

    def __init__(self, database_path: str) -> None:
        self.path = database_path + SUFFIX
        self._fd: int | None = None
        self._slot: int | None = None

    @property
    def holding(self) -> bool:
        return self._slot is not None

    def acquire(self) -> bool:
        """Take a ticket and wait for the one before it. False (nothing held) when the queue
        cannot be used here or this process already holds a ticket for this database."""
        if self._slot is not None:
            self.release()  # left over from a transaction that ended unseen
        with _held_lock:
            if self.path in _held:
                return False
            _held.add(self.path)
        try:
            fd = self._open()
            ticket = self._take_ticket(fd)
            if ticket:
                self._wait_for(fd, FIRST_SLOT + (ticket - 1) % SLOTS)
        except OSError as exc:  # e.g. a read-only folder: SQLite's own lock still applies
            log.warning("SQLite write queue not used: %s", exc.strerror or type(exc).__name__)
            self._give_up()
            return False
        except BaseException:  # e.g. a signal handler's exception while waiting
            self._give_up()
            raise
        return True

    def _give_up(self) -> None:
        """Let go of a ticket taken but not waited out, and of this process's claim."""
        self.release()
        _held.discard(self.path)

    def release(self) -> None:
        """Hand over to the next ticket (a no-op when nothing is held)."""
        slot, self._slot = self._slot, None
        if slot is None or self._fd is None:
            return
        _held.discard(self.path)
        try:
            _lock_byte(self._fd, _F_OFD_SETLK, fcntl.F_UNLCK, slot)  # type: ignore[arg-type]
        except OSError:  # the descriptor is gone: so is the lock
            self.close()

    def close(self) -> None:
        """Close the file (which drops any lock still held)."""
        if self._slot is not None:
            _held.discard(self.path)
            self._slot = None
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def _open(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        return self._fd

    def _take_ticket(self, fd: int) -> int:
        """The next ticket, and its byte locked before the counter is released: so ticket t+1
        always finds t's byte taken until t has finished."""
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            raw = os.pread(fd, 8, 0)
            ticket = int.from_bytes(raw, "little") if len(raw) == 8 else 0
            os.pwrite(fd, ((ticket + 1) % 2**63).to_bytes(8, "little"), 0)
            slot = FIRST_SLOT + ticket % SLOTS
            _lock_byte(fd, _F_OFD_SETLKW, fcntl.F_WRLCK, slot)  # type: ignore[arg-type]
            self._slot = slot
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
        return ticket

    @staticmethod
    def _wait_for(fd: int, slot: int) -> None:
        """Block until the previous ticket's holder lets go of its byte (or its process ends)."""
        _lock_byte(fd, _F_OFD_SETLKW, fcntl.F_WRLCK, slot)  # type: ignore[arg-type]
        _lock_byte(fd, _F_OFD_SETLK, fcntl.F_UNLCK, slot)  # type: ignore[arg-type]


def for_connection(dbapi_connection: Any, info: dict[str, Any]) -> WriteQueue | None:
    """The queue of a pooled SQLite connection (kept in its record's `info`), or None when this
    connection does not queue (see the module docstring)."""
    if "write_queue" not in info:
        info["write_queue"] = _new_queue(dbapi_connection)
    queue: WriteQueue | None = info["write_queue"]
    return queue


def _new_queue(dbapi_connection: Any) -> WriteQueue | None:
    if not enabled():
        return None
    try:
        path = main_file(dbapi_connection)
    except Exception:  # not a connection we understand: no queue
        return None
    return WriteQueue(path) if path else None  # "" = in-memory or temporary database
