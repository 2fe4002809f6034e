"""The audit chain's status for the DPO overview: full verification plus the latest checkpoint.

Verification only reads, so opening the page changes nothing (T3); `flask audit verify` is the
command that records a verification in the log, and the page shows when it last did: a DPO
relies on the scheduled runs (the index check only runs there), so a schedule that has stopped
must be visible.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from decision_aid import audit
from decision_aid.audit import events
from decision_aid.audit.checkpoint import FILE_RE
from decision_aid.extensions import db
from decision_aid.models.audit import AuditEvent

# Recorded verifications looked back through for the last one that checked the indexes: the
# daily timer checks them every run, a weekly one within a few; past this many it counts as never.
LOOK_BACK = 500


@dataclass(frozen=True)
class RecordedCheck:
    """One `flask audit verify` run recorded in the log."""

    seq: int
    occurred_at: dt.datetime
    checked: int
    indexes_checked: bool


def recorded_checks() -> tuple[RecordedCheck | None, RecordedCheck | None]:
    """(the latest recorded verification, the latest one that also checked the indexes).

    Newest first along the (event_type, seq) index, so the page reads a handful of rows."""
    query = (select(AuditEvent).where(AuditEvent.event_type == events.CHAIN_VERIFIED)
             .order_by(AuditEvent.seq.desc()).limit(LOOK_BACK))
    latest: RecordedCheck | None = None
    for event in db.session.scalars(query):
        data = audit.event_details(event)["data"]
        check = RecordedCheck(event.seq, event.occurred_at, int(data.get("checked") or 0),
                              data.get("indexes_checked") is True)
        latest = latest or check
        if check.indexes_checked:
            return latest, check
    return latest, None


def checkpoint_info() -> dict[str, Any] | None:
    """The latest checkpoint's file name, size, time and whether its signature checks out."""
    path = audit.latest_checkpoint()
    if path is None:
        return None
    match = FILE_RE.match(path.name)
    info: dict[str, Any] = {"name": path.name, "size": int(match.group(1)) if match else None,
                            "written": match.group(2) if match else "", "trusted": False, "problem": ""}
    try:
        checkpoint = audit.load_checkpoint(path)
        info.update(trusted=True, size=checkpoint.size, root_hash=checkpoint.root_hash)
    except (audit.CheckpointError, audit.SigningKeyError, OSError) as exc:
        info["problem"] = str(exc)
    return info


def chain_status() -> dict[str, Any]:
    """Verify the chain from the first entry (against the latest checkpoint when there is one)."""
    try:
        result = audit.verify_chain()
    except (audit.CheckpointError, audit.SigningKeyError) as exc:
        result = audit.verify_chain(use_latest_checkpoint=False)
        problem = str(exc)
    else:
        problem = ""
    last_check, last_index_check = recorded_checks()
    return {"result": result, "checkpoint": checkpoint_info(), "checkpoint_problem": problem,
            "last_check": last_check, "last_index_check": last_index_check}
