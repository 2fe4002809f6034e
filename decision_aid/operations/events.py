"""Audit event types for operations (stored in the hash chain: never rename one, add a new one)."""

from __future__ import annotations

from decision_aid.audit.events import CASE_DISPOSED

RULESET_SIGNED_OFF = "ruleset.signed_off"
COMPLAINT_LOGGED = "complaint.logged"
SUBJECT_ACCESS_EXPORTED = "subject_access.exported"
KEK_ROTATED = "keys.kek_rotated"
RETENTION_RUN = "retention.run"
DRAFTS_PURGED = "drafts.purged"
BACKUP_CREATED = "backup.created"

__all__ = [
    "BACKUP_CREATED",
    "CASE_DISPOSED",
    "COMPLAINT_LOGGED",
    "DRAFTS_PURGED",
    "KEK_ROTATED",
    "RETENTION_RUN",
    "RULESET_SIGNED_OFF",
    "SUBJECT_ACCESS_EXPORTED",
]
