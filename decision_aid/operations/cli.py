"""`flask keys ...`, `flask retention run`, `flask backup create|restore` (docs/operations.md).

Exit codes follow `flask audit`: 0 done; 1 a check failed; 2 bad arguments or configuration.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import NoReturn

import click
from flask.cli import with_appcontext

from decision_aid import crypto
from decision_aid.audit import record_event
from decision_aid.database import write_transaction
from decision_aid.operations import bp, events


def _fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


@click.group("keys")
def keys_group() -> None:
    """Create, check and rotate the key-encryption key."""


@keys_group.command("generate-kek")
@click.option("--out", required=True, help="File to create (mode 0600); must not exist.")
def generate_kek_command(out: str) -> None:
    """Create a new key-encryption key file (keep it outside the database and the repository)."""
    try:
        kek = crypto.write_kek_file(Path(out))
    except FileExistsError:
        _fail(f"{out} already exists; refusing to overwrite a key")
    except OSError as exc:
        _fail(f"cannot write {out}: {exc.strerror}")
    click.echo(f"Created {out} (key id {kek.kek_id})")


@keys_group.command("check")
@with_appcontext
def check_command() -> None:
    """Check the configured KEK loads and unwraps every live data key (run after a restore)."""
    from sqlalchemy import select

    from decision_aid.extensions import db
    from decision_aid.models.operations import CaseKey

    try:
        kek = crypto.load_kek()
    except crypto.KekConfigError as exc:
        _fail(str(exc))
    rows = db.session.execute(select(CaseKey.id, CaseKey.wrapped_key).where(
        CaseKey.destroyed_at.is_(None))).all()
    bad = 0
    for key_id, wrapped in rows:
        try:
            crypto.unwrap_key(kek, key_id, bytes(wrapped))
        except crypto.DecryptionError:
            bad += 1
    if bad:
        _fail(f"{bad} of {len(rows)} data keys do not unwrap with KEK {kek.kek_id}", 1)
    click.echo(f"OK: KEK {kek.kek_id} unwraps all {len(rows)} live data keys")


@keys_group.command("rotate-kek")
@click.option("--new-key-file", required=True, help="The new KEK file (from generate-kek).")
@with_appcontext
def rotate_kek_command(new_key_file: str) -> None:
    """Re-wrap every live data key under a new KEK, then point DECISION_AID_KEK_FILE at it."""
    try:
        old = crypto.load_kek()
        new = crypto.read_kek_file(Path(new_key_file), "--new-key-file")
    except crypto.KekConfigError as exc:
        _fail(str(exc))
    if new.kek_id == old.kek_id:
        _fail("the new key is the key already in use")
    try:
        with write_transaction():
            count = crypto.rewrap_all(old, new)
            record_event(events.KEK_ROTATED, actor=None, data={
                "old_kek_id": old.kek_id, "new_kek_id": new.kek_id, "data_keys": count})
    except crypto.DecryptionError as exc:
        _fail(f"{exc}; nothing was changed", 1)
    click.echo(f"Re-wrapped {count} data keys under KEK {new.kek_id}. Now set "
               f"DECISION_AID_KEK_FILE={new_key_file}, restart the service, and destroy the old key.")


@click.group("retention")
def retention_group() -> None:
    """Delete abandoned drafts and dispose of cases past the retention period."""


@retention_group.command("run")
@with_appcontext
def retention_run_command() -> None:
    """One scheduled run (safe to repeat: a second run finds nothing to do)."""
    from decision_aid.operations.retention import run_retention

    try:
        report = run_retention()
    except crypto.KekConfigError as exc:
        _fail(str(exc))
    click.echo(report.summary())


@click.group("backup")
def backup_group() -> None:
    """Back up the database with its checkpoints, and restore it."""


@backup_group.command("create")
@click.option("--out", required=True, help="New directory for the backup.")
@with_appcontext
def backup_create_command(out: str) -> None:
    """Copy the database (online), the signed checkpoints and a manifest of key locations."""
    from decision_aid.operations.backup import BackupError, create_backup

    try:
        create_backup(Path(out))
    except (BackupError, OSError, subprocess.CalledProcessError) as exc:
        _fail(str(exc))
    with write_transaction():
        record_event(events.BACKUP_CREATED, actor=None, data={"directory": Path(out).name[:200]})
    click.echo(f"Backup written to {out}. The keys are not in it: back them up separately.")


@backup_group.command("restore")
@click.option("--from", "source", required=True, help="A backup directory.")
@click.option("--database-url", required=True, help="The NEW database to restore into.")
@click.option("--force", is_flag=True, help="Overwrite an existing SQLite file.")
@with_appcontext
def backup_restore_command(source: str, database_url: str, force: bool) -> None:
    """Restore, then verify the chain against the latest live checkpoint (detects rollback)."""
    from decision_aid.config import normalise_db_url
    from decision_aid.operations.backup import BackupError, restore_backup, verify_restored

    url = normalise_db_url(database_url)
    try:
        restore_backup(Path(source), url, force=force)
    except (BackupError, OSError, ValueError, subprocess.CalledProcessError) as exc:
        _fail(str(exc))
    result = verify_restored(url)
    if not result.ok:
        click.echo(f"Restored, but verification FAILED: {result.summary()}", err=True)
        sys.exit(1)
    click.echo(f"Restored and verified: {result.summary()}")


for _group in (keys_group, retention_group, backup_group):
    bp.cli.add_command(_group)
