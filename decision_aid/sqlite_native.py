"""The app's C helpers for SQLite (`_sqlitec.c`), and when they can be trusted.

They work on the SQLite handle inside Python's `sqlite3.Connection`: today the audit verifier's
hash pass (decision_aid/audit/native.py, target T18). Used when: CPython 3.11 to 3.13 (the C
code reads the handle where those versions keep it), the module built (`make setup` builds it;
pip skips it without the SQLite and OpenSSL headers) and the handle naming the file the
connection itself says it has open. Otherwise the callers keep their Python code.
"""

from __future__ import annotations

import platform
import sys
from typing import Any

try:
    from decision_aid import _sqlitec  # type: ignore[attr-defined]
except ImportError:  # not built: callers fall back
    _sqlitec = None

_LAYOUT_KNOWN = (platform.python_implementation() == "CPython"
                 and (3, 11) <= sys.version_info[:2] <= (3, 13))


def built() -> bool:
    """Whether the C module is importable on this interpreter (the tests insist it is)."""
    return _sqlitec is not None and _LAYOUT_KNOWN


def module() -> Any:
    """The C module, for callers that checked `usable` first."""
    return _sqlitec


def usable(dbapi: Any) -> bool:
    """Built, and the handle the C code would use names the file this connection has open as
    'main' (any doubt means: do not use it)."""
    if not built() or type(dbapi).__module__.split(".")[0] != "sqlite3":
        return False
    try:
        return bool(_sqlitec.db_filename(dbapi) == main_file(dbapi))
    except Exception:  # any doubt about the handle means: do not use it
        return False


def main_file(dbapi: Any) -> str:
    """The file a sqlite3 connection has open as 'main' ('' for an in-memory or temporary
    database), as SQLite itself lists it."""
    listed = {row[1]: row[2] for row in dbapi.execute("PRAGMA database_list")}
    return str(listed.get("main") or "")
