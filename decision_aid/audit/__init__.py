"""The tamper-evident audit log: public API (see docs/audit-log.md).

    from decision_aid import audit
    from decision_aid.audit import events
    from decision_aid.database import write_transaction

    with write_transaction():
        ... make the change ...
        audit.record_event(events.DECISION_SUBMITTED, actor=user, case_ref=..., decision_ref=...)
"""

from __future__ import annotations

from decision_aid.audit import events
from decision_aid.audit.canonical import CanonicalisationError, canonical_bytes
from decision_aid.audit.chain import GENESIS_HASH, entry_hash, record_event
from decision_aid.audit.checkpoint import (
    Checkpoint,
    CheckpointError,
    latest_checkpoint,
    load_checkpoint,
    write_checkpoint,
)
from decision_aid.audit.keys import SigningKeyError, load_signing_key
from decision_aid.audit.queries import (
    access_events,
    event_details,
    latest_event_for_decision,
    verification_code,
    verify_chain,
    verify_record,
)
from decision_aid.audit.verify import VerificationResult
from decision_aid.models.audit import AuditEvent, AuditLogImmutableError

__all__ = [
    "GENESIS_HASH",
    "AuditEvent",
    "AuditLogImmutableError",
    "CanonicalisationError",
    "Checkpoint",
    "CheckpointError",
    "SigningKeyError",
    "VerificationResult",
    "access_events",
    "canonical_bytes",
    "entry_hash",
    "event_details",
    "events",
    "latest_checkpoint",
    "latest_event_for_decision",
    "load_checkpoint",
    "load_signing_key",
    "record_event",
    "verification_code",
    "verify_chain",
    "verify_record",
    "write_checkpoint",
]
