"""Checking the audit table's indexes against its rows (`flask audit verify --indexes`).

Why: the chain proves the rows. The indexes are copies of row values, kept in their own pages,
and the DPO's audit search and "who has seen this record" read them. An edit of an index page
would make a search leave out (or misfile) an event while every hash still matched. The
database's own checker compares every index entry with its row: SQLite's
`PRAGMA integrity_check(audit_event)` and PostgreSQL's amcheck (`bt_index_check` with
`heapallindexed`). It reads every index in full, so it is slower than the chain check (about
12 s against 1.6 s for 1,000,000 events on SQLite): an option for a scheduled run, not part of
every verification.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

TABLE = "audit_event"
# SQLite names the row (rowid = seq) when an index lacks its entry.
_MISSING_ROW = re.compile(r"^row (\d+) missing from index (\S+)")
_PG_INDEXES = text(
    "SELECT c.oid, c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
    "JOIN pg_am a ON a.oid = c.relam WHERE i.indrelid = CAST(:table AS regclass) "
    "AND a.amname = 'btree' ORDER BY c.relname"
)


class IndexCheckUnavailable(RuntimeError):
    """The database cannot check its indexes here (PostgreSQL without amcheck): a set-up
    problem for the operator, reported in one line, never taken for a clean result."""


@dataclass(frozen=True)
class IndexProblem:
    """What the database's checker found first (an index entry not matching its row, or damage to
    the table's pages, which the same check reports); `seq` when the checker names the row."""

    message: str
    seq: int | None = None

    def summary(self) -> str:
        """One line for the CLI, in the form the chain check uses."""
        where = f" at seq {self.seq}" if self.seq is not None else ""
        return (f"FAILED{where}: the database's check of the audit table and its indexes "
                f"failed ({self.message})")


def check_indexes(conn: Connection) -> IndexProblem | None:
    """None when every index entry of the audit table matches its row, else the first problem."""
    if conn.dialect.name == "sqlite":
        return _sqlite_problem(conn)
    return _postgresql_problem(conn)


def _sqlite_problem(conn: Connection) -> IndexProblem | None:
    """SQLite's checker restricted to the audit table and its indexes (SQLite 3.33 and later)."""
    lines = [str(row[0]) for row in conn.exec_driver_sql(f"PRAGMA integrity_check({TABLE})")]
    if lines == ["ok"]:
        return None
    for line in lines:  # a line that names a row is the most useful one to give
        if found := _MISSING_ROW.match(line):
            return IndexProblem(line, int(found.group(1)))
    return IndexProblem(" ".join(lines[:3]))


def _postgresql_problem(conn: Connection) -> IndexProblem | None:
    """amcheck on every B-tree index of the table; the first failing index is named."""
    installed = conn.execute(
        text("SELECT 1 FROM pg_extension WHERE extname = 'amcheck'")).scalar()
    if installed is None:
        raise IndexCheckUnavailable(
            "checking indexes on PostgreSQL needs the amcheck extension: run "
            "CREATE EXTENSION amcheck in this database as a superuser (docs/audit-log.md)")
    for oid, name in conn.execute(_PG_INDEXES, {"table": TABLE}).all():
        savepoint = conn.begin_nested()  # a failed check must not end the caller's transaction
        try:
            conn.execute(text("SELECT bt_index_check(CAST(:oid AS regclass), true)"),
                         {"oid": oid})
        except DBAPIError as exc:
            savepoint.rollback()
            if "permission denied" in str(exc.orig):
                raise IndexCheckUnavailable(
                    "this database role may not run amcheck's bt_index_check; grant EXECUTE "
                    "on it to the role that runs the check (docs/audit-log.md)") from None
            return IndexProblem(f"{name}: {_first_line(exc.orig)}")
        savepoint.commit()
    return None


def _first_line(error: BaseException | None) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
