"""The audit chain's status for the DPO overview: full verification plus the latest checkpoint.

Verification only reads, so opening the page changes nothing (T3); `flask audit verify` is the
command that records a verification in the log.
"""

from __future__ import annotations

from typing import Any

from decision_aid import audit
from decision_aid.audit.checkpoint import FILE_RE


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
        return {"result": result, "checkpoint": checkpoint_info(), "checkpoint_problem": str(exc)}
    return {"result": result, "checkpoint": checkpoint_info(), "checkpoint_problem": ""}
