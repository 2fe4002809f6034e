"""`flask audit verify | checkpoint | keygen | public-key`.

Exit codes: 0 verified / done; 1 verification failed (one line naming the first bad seq);
2 bad arguments or configuration (one line, no traceback).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click
from flask import Flask
from flask.cli import with_appcontext

from decision_aid.audit import events
from decision_aid.audit.checkpoint import write_checkpoint
from decision_aid.audit.indexes import IndexCheckUnavailable
from decision_aid.audit.keys import (
    SigningKeyError,
    key_name,
    load_signing_key,
    verifier_key,
    write_new_key,
)
from decision_aid.audit.queries import check_audit_indexes, verify_chain, verify_record
from decision_aid.audit.verify import VerificationResult


def _fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


@click.group("audit")
def audit_group() -> None:
    """Verify the audit chain, write signed checkpoints, make signing keys."""


def _record_verified(result: VerificationResult, indexes_checked: bool) -> None:
    """A successful full verification is itself an event (failures are reported, not chained)."""
    from decision_aid.audit.chain import record_event
    from decision_aid.database import write_transaction

    with write_transaction():
        record_event(
            events.CHAIN_VERIFIED,
            actor=None,
            data={
                "checked": result.checked,
                "head_seq": result.head_seq,
                "head_hash": result.head_hash,
                "checkpoint_size": result.checkpoint_size,
                "indexes_checked": indexes_checked,
            },
        )


def _verify_one_record(ref: str) -> None:
    result = verify_record(ref)
    if result.first_bad_seq is None and not result.ok:
        _fail(result.problem)
    if not result.ok:
        click.echo(result.summary(), err=True)
        sys.exit(1)
    click.echo(f"OK: {result.checked} entries of {ref} verified (last seq {result.head_seq})")


@audit_group.command("verify")
@click.option(
    "--checkpoint", default=None,
    help="Signed checkpoint file to check the head against (default: the latest one).",
)
@click.option("--record", default=None, help="Verify only this decision's entries.")
@click.option(
    "--from-seq", "from_seq", default=1, type=click.IntRange(min=1),
    help="Start at this entry, trusting the stored hash of the one before.",
)
@click.option(
    "--processes", default=2, show_default=True, type=click.IntRange(min=1, max=16),
    help="Hash the log in this many processes at once (one per core helps most).",
)
@click.option(
    "--indexes", is_flag=True,
    help="Also check every index entry against its row (slower: for a scheduled run).",
)
@with_appcontext
def verify_command(
    checkpoint: str | None, record: str | None, from_seq: int, processes: int, indexes: bool
) -> None:
    """Check every link, hash and column, and the head against the latest signed checkpoint."""
    if record is not None and (checkpoint is not None or indexes):
        _fail("--record cannot be combined with --checkpoint or --indexes")
    if record is not None:
        _verify_one_record(record)
        return
    path = Path(checkpoint) if checkpoint else None
    if path is not None and not path.is_file():
        _fail(f"checkpoint file not found: {checkpoint}")
    try:
        result = verify_chain(from_seq=from_seq, checkpoint=path, processes=processes)
    except SigningKeyError as exc:
        _fail(str(exc))
    if not result.ok:
        click.echo(result.summary(), err=True)
        sys.exit(1)
    if indexes:
        _verify_indexes()
    _record_verified(result, indexes)
    click.echo(result.summary() + ("; every index matches its rows" if indexes else ""))


def _verify_indexes() -> None:
    """The index check after a good chain: exit 1 naming the problem, 2 if it cannot run."""
    try:
        problem = check_audit_indexes()
    except IndexCheckUnavailable as exc:
        _fail(str(exc))
    if problem is not None:
        click.echo(problem.summary(), err=True)
        sys.exit(1)


@audit_group.command("checkpoint")
@click.option(
    "--dir", "directory", default=None,
    help="Directory for the checkpoint (default: CHECKPOINT_DIR).",
)
@with_appcontext
def checkpoint_command(directory: str | None) -> None:
    """Sign the current head and write it outside the database (run from a scheduler)."""
    try:
        path = write_checkpoint(Path(directory) if directory else None)
    except (SigningKeyError, OSError) as exc:
        _fail(str(exc))
    click.echo(str(path))


@audit_group.command("keygen")
@click.option("--out", "out", required=True, help="File to create (mode 0600); must not exist.")
@with_appcontext
def keygen_command(out: str) -> None:
    """Create an Ed25519 signing key file and print its public verifier key."""
    path = Path(out)
    try:
        key = write_new_key(path)
    except FileExistsError:
        _fail(f"{out} already exists; refusing to overwrite a signing key")
    except OSError as exc:
        _fail(f"cannot write {out}: {exc.strerror}")
    vkey = verifier_key(key_name(), key.public_key())
    path.with_name(path.name + ".pub").write_text(vkey + "\n", encoding="utf-8")
    click.echo(vkey)


@audit_group.command("public-key")
@with_appcontext
def public_key_command() -> None:
    """Print the C2SP verifier key of the configured signing key (give it to auditors)."""
    try:
        key = load_signing_key()
    except SigningKeyError as exc:
        _fail(str(exc))
    click.echo(verifier_key(key_name(), key.public_key()))


def register_cli(app: Flask) -> None:
    """Called by decision_aid.cli: adds the `audit` command group."""
    app.cli.add_command(audit_group)
