"""Read side of the audit log: verification, verification codes, "who has seen this record"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from decision_aid.audit import events
from decision_aid.audit.chain import GENESIS_HASH
from decision_aid.audit.indexes import IndexProblem, check_indexes
from decision_aid.audit.verify import (
    LINK_PROBLEM,
    VerificationResult,
    _Broken,
    _check_rows,
    select_sql,
    stored_column,
    verify_connection,
)
from decision_aid.extensions import db
from decision_aid.models.audit import AuditEvent


def verify_chain(
    *,
    from_seq: int = 1,
    checkpoint: Path | None = None,
    use_latest_checkpoint: bool = True,
    processes: int = 1,
) -> VerificationResult:
    """Verify every entry from `from_seq`, then the head against a signed checkpoint.

    Without an explicit checkpoint the latest one in the checkpoint directory is used (if any),
    which is what catches a cut tail or a database restored from an older backup. The connection
    is our own (nothing uncommitted on it), so the row checks can run on a second one meanwhile.
    `processes` > 1 also splits the hashing over forked processes: for the CLI, not for a web
    worker (forking a server process is best left to the server).
    """
    from decision_aid.audit.checkpoint import latest_checkpoint

    if checkpoint is None and use_latest_checkpoint:
        checkpoint = latest_checkpoint()
    with db.engine.connect() as conn, conn.begin():
        return verify_connection(
            conn, from_seq=from_seq, checkpoint=checkpoint, parallel=True, processes=processes
        )


def check_audit_indexes() -> IndexProblem | None:
    """Every index entry of the audit table against its row (indexes.py); None when all match.
    Raises IndexCheckUnavailable when this database cannot run the check."""
    with db.engine.connect() as conn, conn.begin():
        return check_indexes(conn)


def _check_links(conn: Connection, seq: int, prev_hash: str, own_hash: str) -> None:
    """An entry must chain to its stored neighbours on both sides."""
    before = GENESIS_HASH if seq == 1 else stored_column(conn, "entry_hash", seq - 1)
    if before != prev_hash:
        raise _Broken(seq, LINK_PROBLEM)
    after = stored_column(conn, "prev_hash", seq + 1)
    if after is not None and after != own_hash:
        raise _Broken(seq + 1, LINK_PROBLEM)


def verify_record_on(conn: Connection, decision_ref: str) -> VerificationResult:
    """Check one decision's entries: their bytes, hashes, columns and links to their neighbours."""
    placeholder = "?" if conn.dialect.name == "sqlite" else "%s"
    sql = select_sql(conn.dialect.name, where=f"decision_ref = {placeholder}")
    rows = conn.exec_driver_sql(sql, (decision_ref,)).all()
    if not rows:
        return VerificationResult(False, 0, None, f"no audit entries for {decision_ref}", 0, "")
    try:
        for row in rows:
            seq, prev = row[0], row[1]
            _check_rows([tuple(row)], seq, bytes.fromhex(prev), prev)
            _check_links(conn, seq, prev, row[2])
    except _Broken as broken:
        return VerificationResult(False, 0, broken.seq, broken.problem, 0, "")
    except ValueError:  # prev_hash is not hex
        return VerificationResult(False, 0, row[0], "prev_hash is malformed", 0, "")
    return VerificationResult(True, len(rows), None, "", rows[-1][0], rows[-1][2])


def verify_record(decision_ref: str) -> VerificationResult:
    """Verify the entries of one decision (the full `verify_chain` remains the authority)."""
    with db.engine.connect() as conn, conn.begin():
        return verify_record_on(conn, decision_ref)


def verification_code(event: AuditEvent) -> str:
    """Short code shown on the record and print view: sequence number and hash prefix."""
    return f"AUD-{event.seq:06d}-{event.entry_hash[:8]}"


def latest_event_for_decision(decision_ref: str) -> AuditEvent | None:
    """The most recent audit entry about a decision (its verification code goes on the record)."""
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.decision_ref == decision_ref)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    )
    return db.session.scalars(stmt).first()


def access_events(decision_ref: str, *, include_denied: bool = False) -> list[AuditEvent]:
    """Every view, print, PDF download and export of one decision, oldest first."""
    types = events.ACCESS_EVENTS + ((events.RECORD_ACCESS_DENIED,) if include_denied else ())
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.decision_ref == decision_ref, AuditEvent.event_type.in_(types))
        .order_by(AuditEvent.seq)
    )
    return list(db.session.scalars(stmt))


def event_details(event: AuditEvent) -> dict[str, Any]:
    """The actor's name and role and the event's data, read back from the stored bytes."""
    document = json.loads(event.payload)
    return {"actor": document["with"]["actor"], "data": document["with"]["data"]}
