"""Audit event types: the only strings `record_event` should be given.

Names are `<area>.<what happened>`; they are stored in the hash chain, so never rename one:
add a new constant instead.
"""

from __future__ import annotations

# Sign-in and sessions
SIGN_IN_SUCCEEDED = "sign_in.succeeded"
SIGN_IN_FAILED = "sign_in.failed"
SIGNED_OUT = "sign_in.signed_out"
SESSION_ENDED = "session.ended"  # idle or absolute timeout, or ended by an admin
MFA_ENROLLED = "mfa.enrolled"
MFA_SUCCEEDED = "mfa.succeeded"
MFA_FAILED = "mfa.failed"
MFA_RESET = "mfa.reset"
PASSWORD_CHANGED = "user.password_changed"  # noqa: S105 (an event name, not a password)

# Decisions
DECISION_SUBMITTED = "decision.submitted"
EMERGENCY_RECORDED = "decision.emergency_recorded"
EMERGENCY_COMPLETED = "decision.emergency_completed"
DECISION_CORRECTED = "decision.corrected"
DECISION_RECONSIDERED = "decision.reconsidered"

# Access to a record ("who has seen this record")
RECORD_VIEWED = "record.viewed"
RECORD_PRINTED = "record.printed"
RECORD_PDF_DOWNLOADED = "record.pdf_downloaded"
RECORD_EXPORTED = "record.exported"
RECORD_ACCESS_DENIED = "record.access_denied"

# Review
REVIEW_RECORDED = "review.recorded"

# Administration
SETTINGS_CHANGED = "settings.changed"
USER_CREATED = "user.created"
USER_UPDATED = "user.updated"
USER_DISABLED = "user.disabled"
USER_ENABLED = "user.enabled"
TEAM_CHANGED = "team.changed"

# Bulk export and disposal (later issues)
DATA_EXPORTED = "data.exported"
CASE_DISPOSED = "case.disposed"

# The audit log itself
CHAIN_VERIFIED = "audit.chain_verified"
CHECKPOINT_WRITTEN = "audit.checkpoint_written"
AUDIT_LOG_SEARCHED = "audit_log.searched"  # the DPO's search of the whole log: filter names only

ACCESS_EVENTS: tuple[str, ...] = (
    RECORD_VIEWED,
    RECORD_PRINTED,
    RECORD_PDF_DOWNLOADED,
    RECORD_EXPORTED,
)

ALL_EVENTS: frozenset[str] = frozenset(
    value for name, value in globals().items() if name.isupper() and isinstance(value, str)
)
