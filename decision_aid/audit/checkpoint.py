"""Signed checkpoints in the C2SP tlog-checkpoint / signed-note format, stored outside the database.

    decision-aid.local/demo-safeguarding-partnership/audit
    1234
    <base64 of the 32-byte entry_hash of entry 1234>

    — decision-aid.local/demo-safeguarding-partnership/audit <base64(key hash[4] || Ed25519 sig)>

The root is the hash of the entry at that size (the log is a hash chain, so that one hash commits
to every earlier entry). A copy of the database restored from an older backup, or a cut tail, is
caught by comparing the head with the latest checkpoint, which an attacker with only database
access cannot forge.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import re
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app
from sqlalchemy.engine import Connection

from decision_aid import clock
from decision_aid.audit.chain import GENESIS_HASH, read_head
from decision_aid.audit.keys import check_key_name, key_id, load_signing_key
from decision_aid.audit.verify import VerificationResult, stored_column

SIG_PREFIX = "\u2014 "  # em dash and space start every signature line
FILE_RE = re.compile(r"^checkpoint-(\d{12})-(\d{8}T\d{6}\d{6}Z)\.txt$")


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read, parsed or trusted."""


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """A parsed checkpoint: the signed body and its values."""

    origin: str
    size: int
    root_hash: str  # hex

    def body(self) -> str:
        """The signed text (C2SP: origin, size, base64 root, each line ending in a newline)."""
        root = base64.b64encode(bytes.fromhex(self.root_hash)).decode()
        return f"{self.origin}\n{self.size}\n{root}\n"


def origin() -> str:
    """The log's origin line: AUDIT_ORIGIN if configured, else derived from ORG_NAME."""
    configured = current_app.config.get("AUDIT_ORIGIN")
    if configured:
        return check_key_name(str(configured))
    slug = re.sub(r"[^a-z0-9]+", "-", str(current_app.config.get("ORG_NAME", "org")).lower())
    return check_key_name(f"decision-aid.local/{slug.strip('-') or 'org'}/audit")


def checkpoint_dir(directory: Path | None = None) -> Path:
    """Where checkpoints go: the argument, CHECKPOINT_DIR, or instance/checkpoints."""
    if directory is not None:
        return Path(directory)
    configured = current_app.config.get("CHECKPOINT_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "checkpoints"


def sign(checkpoint: Checkpoint, key: Ed25519PrivateKey) -> str:
    """The complete signed note text."""
    body = checkpoint.body()
    signature = key.sign(body.encode())
    blob = base64.b64encode(key_id(checkpoint.origin, key.public_key()) + signature).decode()
    return f"{body}\n{SIG_PREFIX}{checkpoint.origin} {blob}\n"


def _split_note(text: str) -> tuple[str, list[str]]:
    body, sep, signatures = text.partition("\n\n")
    if not sep or not body:
        raise CheckpointError("not a signed note (no blank line after the body)")
    lines = [line for line in signatures.split("\n") if line]
    if not lines or not all(line.startswith(SIG_PREFIX) for line in lines):
        raise CheckpointError("no signature lines")
    return body + "\n", lines


def parse(text: str) -> tuple[Checkpoint, list[str]]:
    """Parse a checkpoint's body (without checking signatures) and return its signature lines."""
    body, signatures = _split_note(text)
    lines = body.split("\n")[:-1]
    if len(lines) < 3 or not lines[1].isdigit() or (len(lines[1]) > 1 and lines[1][0] == "0"):
        raise CheckpointError("checkpoint body must be origin, size and root hash")
    try:
        root = base64.b64decode(lines[2], validate=True)
    except ValueError as exc:
        raise CheckpointError("root hash is not base64") from exc
    if len(root) != 32:
        raise CheckpointError("root hash must be 32 bytes")
    return Checkpoint(lines[0], int(lines[1]), root.hex()), signatures


def verify_signature(text: str, public: Ed25519PublicKey) -> Checkpoint:
    """Parse and check that one signature line is by `public` over the exact body."""
    checkpoint, signatures = parse(text)
    body = text.partition("\n\n")[0] + "\n"
    wanted = key_id(checkpoint.origin, public)
    for line in signatures:
        name, _, blob = line[len(SIG_PREFIX):].partition(" ")
        raw = base64.b64decode(blob + "==")
        if name != checkpoint.origin or raw[:4] != wanted:
            continue
        try:
            public.verify(raw[4:], body.encode())
        except InvalidSignature as exc:
            raise CheckpointError("checkpoint signature is invalid") from exc
        return checkpoint
    raise CheckpointError("checkpoint is not signed by this log's key")


def _write_atomically(path: Path, text: str) -> None:
    """Write, fsync and rename, so a crash never leaves a half-written checkpoint."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def committed_head() -> tuple[int, str]:
    """The head as committed, read on its own connection: never the caller's uncommitted entries."""
    from sqlalchemy.orm import Session

    from decision_aid.extensions import db

    with Session(db.engine) as session:
        return read_head(session)


def write_checkpoint(directory: Path | None = None) -> Path:
    """Sign the committed head, write it outside the database, and record that it was written.

    Inside a caller's transaction the `audit.checkpoint_written` event joins that transaction;
    otherwise it gets its own write transaction.
    """
    from decision_aid.audit import events
    from decision_aid.audit.chain import record_event
    from decision_aid.database import write_transaction
    from decision_aid.extensions import db

    key = load_signing_key()
    size, root = committed_head()
    checkpoint = Checkpoint(origin(), size, root if size else GENESIS_HASH)
    target = checkpoint_dir(directory)
    target.mkdir(parents=True, exist_ok=True)
    stamp = clock.now().strftime("%Y%m%dT%H%M%S%fZ")
    path = target / f"checkpoint-{size:012d}-{stamp}.txt"
    _write_atomically(path, sign(checkpoint, key))
    data = {"size": size, "root": checkpoint.root_hash, "file": path.name}
    if db.session().in_transaction():
        record_event(events.CHECKPOINT_WRITTEN, actor=None, data=data)
    else:
        with write_transaction():
            record_event(events.CHECKPOINT_WRITTEN, actor=None, data=data)
    return path


def latest_checkpoint(directory: Path | None = None) -> Path | None:
    """The checkpoint with the largest size (then the latest time) in the directory, if any."""
    folder = checkpoint_dir(directory)
    if not folder.is_dir():
        return None
    found = [(m.groups(), p) for p in folder.iterdir() if (m := FILE_RE.match(p.name))]
    return max(found)[1] if found else None


def _failed(result: VerificationResult, seq: int | None, problem: str) -> VerificationResult:
    return dataclasses.replace(result, ok=False, first_bad_seq=seq, problem=problem)


def load_checkpoint(path: Path) -> Checkpoint:
    """Read a checkpoint and check it is signed by this log's key and names this log's origin."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"cannot read checkpoint {path}") from exc
    checkpoint = verify_signature(text, load_signing_key().public_key())
    if checkpoint.origin != origin():
        raise CheckpointError(f"checkpoint is for another log ({checkpoint.origin})")
    return checkpoint


def check_against_checkpoint(
    conn: Connection, result: VerificationResult, path: Path
) -> VerificationResult:
    """Compare a verified chain's head with a signed checkpoint (detects cut tails, old backups)."""
    try:
        checkpoint = load_checkpoint(path)
    except CheckpointError as exc:
        return _failed(result, None, f"{exc} ({Path(path).name})")
    if checkpoint.size > result.head_seq:
        return _failed(
            result,
            result.head_seq + 1,
            f"log ends at {result.head_seq} but the signed checkpoint covers {checkpoint.size} "
            "entries: the tail was cut or the database was restored from an older copy",
        )
    if checkpoint.size:
        if stored_column(conn, "entry_hash", checkpoint.size) != checkpoint.root_hash:
            return _failed(
                result,
                checkpoint.size,
                f"entry {checkpoint.size} differs from the signed checkpoint: "
                f"the log was rewritten at or before entry {checkpoint.size}",
            )
    return dataclasses.replace(result, checkpoint_size=checkpoint.size)
