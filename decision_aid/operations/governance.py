"""Rule governance: which rules are unverified ([U]), which rule-set version is in use, and sign-off.

A new rule-set version must be signed off by the DPO "before it is used for decisions". We never
block a safeguarding decision for that: decisions can still be recorded, but every screen shows
that the rules in use are unapproved, and a decision counts as "made under unapproved rules" when
no sign-off of its version and digest existed at its `submitted_at`. That is derived, so nothing
is added to the insert-only Decision row (docs/operations.md, "Rule governance").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from decision_aid import clock
from decision_aid.audit import record_event
from decision_aid.database import write_transaction
from decision_aid.extensions import db
from decision_aid.models import User
from decision_aid.models.operations import RuleSetSignOff
from decision_aid.operations import events

UNVERIFIED_TAG = "U"
NOTES_MAX = 1000


@dataclass(frozen=True)
class RuleInUse:
    """The rule set loaded at start-up, as the DPO signs it off."""

    version: str
    digest: str


def ruleset_in_use() -> RuleInUse:
    """Version and digest of the rule set this process evaluates with."""
    ruleset: Any = current_app.extensions["ruleset"]
    return RuleInUse(str(ruleset.version), str(ruleset.digest))


def unverified_rules() -> list[Any]:
    """Rules still tagged [U] (law or date not yet verified), in id order."""
    ruleset: Any = current_app.extensions["ruleset"]
    return sorted((r for r in ruleset.rules.values() if r.tag == UNVERIFIED_TAG),
                  key=lambda rule: rule.id)


def first_sign_off_at(version: str, digest: str) -> dt.datetime | None:
    """When this exact version and digest was first signed off (None: never)."""
    return db.session.scalar(select(func.min(RuleSetSignOff.signed_off_at)).where(
        RuleSetSignOff.ruleset_version == version, RuleSetSignOff.ruleset_digest == digest))


def sign_offs() -> list[RuleSetSignOff]:
    """Every sign-off, newest first."""
    return list(db.session.scalars(
        select(RuleSetSignOff).order_by(RuleSetSignOff.signed_off_at.desc())))


def ruleset_approved() -> bool:
    """True when the rule set in use (version and digest) has been signed off.

    Asked on every signed-in page (the "unapproved rules" banner). Sign-offs are never updated
    or deleted, so once this process has seen one for the rule set in use the answer cannot
    change back: it is remembered per app and the query is not repeated.
    """
    current = ruleset_in_use()
    known: set[RuleInUse] = current_app.extensions.setdefault("ruleset_signed_off", set())
    if current in known:
        return True
    if first_sign_off_at(current.version, current.digest) is None:
        return False
    known.add(current)
    return True


def made_under_unapproved_rules(decision: Any) -> bool:
    """True when no sign-off of the decision's rule-set version existed when it was submitted."""
    approved_at = first_sign_off_at(decision.ruleset_version, decision.ruleset_digest)
    return approved_at is None or approved_at > decision.submitted_at


def sign_off(user: User, notes: str) -> RuleSetSignOff:
    """Record the DPO's sign-off of the rule set in use, with its audit event, in one transaction."""
    current = ruleset_in_use()
    with write_transaction():
        row = RuleSetSignOff(ruleset_version=current.version, ruleset_digest=current.digest,
                             signed_off_by=user.id, signed_off_at=clock.now(),
                             notes=notes.strip()[:NOTES_MAX])
        db.session.add(row)
        db.session.flush()
        record_event(events.RULESET_SIGNED_OFF, actor=user, data={
            "sign_off_id": str(row.id), "ruleset_version": current.version,
            "ruleset_digest": current.digest[:100]})
    return row
