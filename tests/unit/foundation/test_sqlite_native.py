"""The C helpers for SQLite (decision_aid/_sqlitec.c via sqlite_native.py): built here, and used
only on a handle that checks out. The hash pass has its own tests (tests/unit/audit/test_native.py).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from decision_aid import sqlite_native


@pytest.fixture
def path(tmp_path: Path) -> Path:
    made = tmp_path / "file.sqlite3"
    with sqlite3.connect(made) as conn:
        conn.execute("CREATE TABLE t (x)")
    return made


def test_the_module_is_built_on_our_machines() -> None:
    """`make setup` builds it; a build that failed quietly (setup.py: optional) shows here."""
    assert sqlite_native.built()


def test_only_a_sqlite_connection_whose_handle_checks_out_is_used(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        assert sqlite_native.usable(conn)
        assert not sqlite_native.usable(object())
    finally:
        conn.close()
    assert not sqlite_native.usable(conn)  # closed: the handle is gone
