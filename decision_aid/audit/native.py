"""The C hash pass (`_chainscan.c`) for SQLite connections, when it can be trusted.

Why: on SQLite the verifier's Python loop spends more on the sqlite3 module's per-column objects
than on hashing (quality target T18, docs/performance.md). The C loop reads the same rows on the
same connection and reports the same findings; `verify.hash_pass` words them.

When it is used: CPython 3.11 to 3.13 (the C code reads the SQLite handle where those versions
keep it in `sqlite3.Connection`), the module built (`make setup` builds it), and the handle
naming the same database file as the connection itself says. Anything else, or
`DECISION_AID_AUDIT_NATIVE=0`, keeps the Python loop, which checks exactly the same things.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Callable
from typing import Any, Final

from sqlalchemy.engine import Connection

from decision_aid.audit.chain import HASH_TAG

try:
    from decision_aid.audit import _chainscan  # type: ignore[attr-defined]
except ImportError:  # not built: the Python loop does the work
    _chainscan = None

# (entries that passed, what the next one broke: NONE/LINK/HASH/MALFORMED, last good hash)
NativeScan = Callable[[int, int, str], tuple[int, int, str]]
NONE: Final = 0
LINK: Final = 1
HASH: Final = 2
MALFORMED: Final = 3
_LAYOUT_KNOWN = (platform.python_implementation() == "CPython"
                 and (3, 11) <= sys.version_info[:2] <= (3, 13))
HEX = frozenset("0123456789abcdef")


def built() -> bool:
    """Whether the C module is importable on this interpreter (the tests insist it is)."""
    return _chainscan is not None and _LAYOUT_KNOWN


def enabled() -> bool:
    """Built, and not switched off (DECISION_AID_AUDIT_NATIVE=0, for comparisons)."""
    return built() and os.environ.get("DECISION_AID_AUDIT_NATIVE", "1") != "0"


def scanner(conn: Connection) -> NativeScan | None:
    """The C hash pass bound to this connection's SQLite handle, or None to use Python's loop."""
    if conn.dialect.name != "sqlite" or not enabled():
        return None
    dbapi: Any = conn.connection.driver_connection
    if dbapi is None or not _same_database(dbapi):
        return None

    def scan(low: int, high: int, start_hex: str) -> tuple[int, int, str]:
        done, found, last = _chainscan.hash_range(dbapi, low, high, start_hex, HASH_TAG)
        return int(done), int(found), str(last)

    return scan


def plain_hex(value: str) -> bool:
    """64 lowercase hex characters: the only start hash the C loop accepts (any other stored
    value takes the Python loop, whose findings for it are the reference)."""
    return len(value) == 64 and HEX.issuperset(value)


def _same_database(dbapi: Any) -> bool:
    """The handle the C code would use names the file this connection has open as 'main'."""
    try:
        listed = {row[1]: row[2] for row in dbapi.execute("PRAGMA database_list")}
        return bool(_chainscan.db_filename(dbapi) == (listed.get("main") or ""))
    except Exception:  # any doubt about the handle means: do not use it
        return False
