"""The C hash pass (`decision_aid/_sqlitec.c`, `hash_range`) for SQLite connections.

Why: on SQLite the verifier's Python loop spends more on the sqlite3 module's per-column objects
than on hashing (quality target T18, docs/audit-log.md). The C loop reads the same rows on the
same connection and reports the same findings; `verify.hash_pass` words them.

When it is used: see `decision_aid.sqlite_native` (built, known interpreter, the handle checked);
`DECISION_AID_AUDIT_NATIVE=0` keeps the Python loop, which checks exactly the same things.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Final

from sqlalchemy.engine import Connection

from decision_aid import sqlite_native
from decision_aid.audit.chain import HASH_TAG

# (entries that passed, what the next one broke: NONE/LINK/HASH/MALFORMED, last good hash)
NativeScan = Callable[[int, int, str], tuple[int, int, str]]
NONE: Final = 0
LINK: Final = 1
HASH: Final = 2
MALFORMED: Final = 3
HEX = frozenset("0123456789abcdef")


def enabled() -> bool:
    """Built, and not switched off (DECISION_AID_AUDIT_NATIVE=0, for comparisons)."""
    return sqlite_native.built() and os.environ.get("DECISION_AID_AUDIT_NATIVE", "1") != "0"


def scanner(conn: Connection) -> NativeScan | None:
    """The C hash pass bound to this connection's SQLite handle, or None to use Python's loop."""
    if conn.dialect.name != "sqlite" or not enabled():
        return None
    dbapi: Any = conn.connection.driver_connection
    if dbapi is None or not sqlite_native.usable(dbapi):
        return None
    c_module = sqlite_native.module()

    def scan(low: int, high: int, start_hex: str) -> tuple[int, int, str]:
        done, found, last = c_module.hash_range(dbapi, low, high, start_hex, HASH_TAG)
        return int(done), int(found), str(last)

    return scan


def plain_hex(value: str) -> bool:
    """64 lowercase hex characters: the only start hash the C loop accepts (any other stored
    value takes the Python loop, whose findings for it are the reference)."""
    return len(value) == 64 and HEX.issuperset(value)
