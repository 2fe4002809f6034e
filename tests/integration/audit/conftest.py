"""Audit-log fixtures: a signing key outside the repository and the database, and a filled log."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from decision_aid import audit
from decision_aid.audit import events
from decision_aid.database import write_transaction
from tests.conftest import base_config


@pytest.fixture(scope="session")
def signing_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An Ed25519 key file in its own temporary directory (never in the repo or next to the DB)."""
    from decision_aid.audit.keys import write_new_key

    path = tmp_path_factory.mktemp("audit-key") / "audit-signing.key"
    write_new_key(path)
    return path


@pytest.fixture
def app_config(database_url: str, tmp_path: Path, signing_key_file: Path) -> dict[str, Any]:
    """The shared test config plus our signing key."""
    config = base_config(database_url, tmp_path)
    config["AUDIT_SIGNING_KEY_FILE"] = str(signing_key_file)
    return config


AppendMany = Callable[..., list[int]]


def sample_event(i: int) -> dict[str, Any]:
    """A varied event: types, references and data change with i (some refs are absent)."""
    kinds = (events.DECISION_SUBMITTED, events.RECORD_VIEWED, events.SIGN_IN_SUCCEEDED,
             events.RECORD_PRINTED, events.SETTINGS_CHANGED)
    return {
        "event_type": kinds[i % len(kinds)],
        "case_ref": None if i % 3 == 0 else f"CASE-{i % 7:05d}",
        "decision_ref": None if i % 4 == 0 else f"DA-2026-{i % 11:06d}",
        "data": {"i": i, "reason": "code-ä€😀", "flags": [i % 2 == 0, None]},
    }


@pytest.fixture
def append_many(app_ctx: Flask) -> AppendMany:
    """Append n events (in transactions of `per_tx`), advancing the fake clock; returns the seqs."""
    clock = app_ctx.extensions["clock"]

    def append(n: int, actor: Any = None, per_tx: int = 50) -> list[int]:
        seqs: list[int] = []
        for start in range(0, n, per_tx):
            with write_transaction():
                for i in range(start, min(n, start + per_tx)):
                    clock.advance(seconds=1, microseconds=i % 997)
                    seqs.append(audit.record_event(actor=actor, **sample_event(i)).seq)
        return seqs

    return append
