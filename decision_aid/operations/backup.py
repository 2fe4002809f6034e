"""Backup and restore (docs/operations.md, "Back up and restore").

A backup directory holds the database copy, a copy of the signed checkpoints, and MANIFEST.json
naming where the keys live. Keys are NEVER copied into it: the key-encryption key unlocks every
case's content and the audit signing key vouches for the log, so a stolen backup must not carry
them, and disposal only works if destroyed data keys cannot be brought back with a backup.
Back the key files up separately (offline / a secret store), as the manifest says.

After a restore, `verify_restored` checks the chain and compares its head with the LATEST
checkpoint in the live checkpoint directory, not the one in the backup: a database rolled back to
an older copy ends before the newest signed checkpoint, and that is reported as a rollback.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from decision_aid import clock, crypto
from decision_aid.audit.checkpoint import checkpoint_dir, latest_checkpoint
from decision_aid.audit.verify import VerificationResult, verify_connection
from decision_aid.extensions import db

SQLITE_NAME = "decision_aid.sqlite3"
PG_NAME = "decision_aid.pgdump"
MANIFEST = "MANIFEST.json"
CHECKPOINTS = "checkpoints"


class BackupError(RuntimeError):
    """A backup or restore that cannot go ahead (one line for the operator)."""


def _signing_key_location() -> str:
    config = current_app.config
    if config.get("AUDIT_SIGNING_KEY"):
        return "environment variable DECISION_AID_AUDIT_SIGNING_KEY"
    if config.get("AUDIT_SIGNING_KEY_FILE"):
        return str(Path(config["AUDIT_SIGNING_KEY_FILE"]).resolve())
    return str((Path(current_app.instance_path) / "keys" / "audit-signing.key").resolve())


def manifest(database_file: str, head: tuple[int, str]) -> dict[str, Any]:
    """What the backup holds and where the keys it needs are (never the keys themselves)."""
    return {
        "format": "decision-aid-backup/1",
        "created_at": clock.now().isoformat(),
        "database": database_file,
        "dialect": db.engine.dialect.name,
        "audit_head": {"seq": head[0], "entry_hash": head[1]},
        "checkpoints": CHECKPOINTS,
        "keys_not_included": {
            "key_encryption_key": crypto.kek_location(),
            "audit_signing_key": _signing_key_location(),
        },
        "restore": "flask backup restore --from THIS_DIR --database-url URL (docs/operations.md)",
    }


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database:
        raise BackupError("the SQLite URL names no file")
    return Path(database)


def _copy_checkpoints(out: Path) -> None:
    source = checkpoint_dir()
    target = out / CHECKPOINTS
    target.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        for path in source.iterdir():
            if path.is_file() and path.name.startswith("checkpoint-"):
                shutil.copy2(path, target / path.name)


def _pg_tool(name: str) -> str:
    found = shutil.which(name) or next(
        (str(p) for p in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)), None)
    if not found:
        raise BackupError(f"{name} not found: install the PostgreSQL client tools")
    return found


def _libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_backup(out: Path) -> Path:
    """Write a consistent database copy, the checkpoints and the manifest into `out`."""
    from decision_aid.audit.checkpoint import committed_head

    out.mkdir(parents=True, exist_ok=True)
    url = str(db.engine.url.render_as_string(hide_password=False))
    if (out / MANIFEST).exists():
        raise BackupError(f"{out} already holds a backup; choose a new directory")
    head = committed_head()
    if db.engine.dialect.name == "sqlite":
        name = SQLITE_NAME
        source = sqlite3.connect(_sqlite_path(url))
        target = sqlite3.connect(out / name)
        try:
            source.backup(target)  # SQLite online backup API: consistent while the app runs
        finally:
            target.close()
            source.close()
    else:
        name = PG_NAME
        subprocess.run([_pg_tool("pg_dump"), "--format=custom", "--no-owner",  # noqa: S603
                        f"--file={out / name}", _libpq_url(url)], check=True, capture_output=True)
    _copy_checkpoints(out)
    (out / MANIFEST).write_text(json.dumps(manifest(name, head), indent=2) + "\n", encoding="utf-8")
    return out


def restore_backup(source: Path, database_url: str, *, force: bool = False) -> None:
    """Restore a backup directory into a new database (SQLite file or empty PostgreSQL database)."""
    info = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    if info.get("format") != "decision-aid-backup/1":
        raise BackupError("not a decision aid backup directory")
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        target = _sqlite_path(database_url)
        if target.exists() and not force:
            raise BackupError(f"{target} exists; restore into a new file (or pass --force)")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(source / info["database"], target)
        return
    subprocess.run([_pg_tool("pg_restore"), "--no-owner", "--exit-on-error",  # noqa: S603
                    f"--dbname={_libpq_url(database_url)}", str(source / info["database"])],
                   check=True, capture_output=True)


def verify_restored(database_url: str, checkpoint: Path | None = None) -> VerificationResult:
    """Verify a restored database against the latest live checkpoint (rollback detection)."""
    path = checkpoint or latest_checkpoint()
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return verify_connection(conn, checkpoint=path)
    finally:
        engine.dispose()

