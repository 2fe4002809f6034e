"""Helpers for operations tests: sentinel strings and raw file searches."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url


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
