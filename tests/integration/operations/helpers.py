"""Helpers for operations tests: sentinel strings, raw file searches, SQL searches of columns."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url


def sentinel_sharing(prefix: str) -> tuple[dict[str, Any], list[str]]:
    """Sharing details whose free text carries distinct sentinel strings."""
    sentinels = [f"SENTINEL-{prefix}-{n:02d}-QX" for n in range(5)]
    sharing = {
        "what": f"Concerns {sentinels[0]}",
        "reasons": f"Because {sentinels[1]}",
        "not_told_reason": f"Risk {sentinels[2]}",
        "recipient_role": f"Duty worker {sentinels[3]}",
        "advice_from": [f"Adviser {sentinels[4]}"],
    }
    return sharing, sentinels


def sqlite_file(database_url: str) -> Path:
    """The database file behind a SQLite URL."""
    return Path(str(make_url(database_url).database))


def sqlite_files_contain(database_url: str, needles: Iterable[str | bytes], *, raw: bool = False) -> list[str]:
    """Which needles occur in the database file, its -wal or its -journal (byte search)."""
    base = sqlite_file(database_url)
    blobs = [p.read_bytes() for p in (base, Path(f"{base}-wal"), Path(f"{base}-journal")) if p.exists()]
    found = []
    for needle in needles:
        data = needle if isinstance(needle, bytes) else needle.encode()
        if any(data in blob for blob in blobs):
            found.append(needle.hex() if isinstance(needle, bytes) else needle)
    return found


_PG_SEARCHED_TYPES = ("text", "character varying", "character", "json", "jsonb", "bytea")


def postgres_columns_contain(conn: Connection, needles: Iterable[str | bytes]) -> list[str]:
    """Which needles occur in any text, JSON or bytea column of the schema ("table.column: needle").

    PostgreSQL's files cannot be searched from a test (another server, pages in its own format),
    so this is the SQL-level check: every live row of every column that could hold content.
    """
    quote = conn.dialect.identifier_preparer.quote
    columns = conn.execute(text(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND data_type = ANY(:types)"),
        {"types": list(_PG_SEARCHED_TYPES)}).all()
    found = []
    for table, column, data_type in columns:
        target = f"{quote(table)}.{quote(column)}"
        for needle in needles:
            data = needle if isinstance(needle, bytes) else needle.encode()
            as_bytes = f"convert_to({quote(column)}::text, 'UTF8')"
            value = quote(column) if data_type == "bytea" else as_bytes
            sql = f"SELECT 1 FROM {quote(table)} WHERE position(:n IN {value}) > 0 LIMIT 1"
            if conn.execute(text(sql), {"n": data}).first() is not None:
                shown = needle.hex() if isinstance(needle, bytes) else needle
                found.append(f"{target}: {shown}")
    return found
