"""Retention and disposal, run by a scheduler (`flask retention run`; deploy/*.timer).

1. Drafts untouched for `draft_retention_days` are deleted (the wizard's purge).
2. A case is due for disposal when its most recent decision was submitted more than
   `decision_retention_years` ago. Disposal destroys the case's data keys (crypto-shredding):
   every encrypted answer, trace, sharing detail and complaint summary of the case becomes
   unreadable, in the database and in every backup, while the insert-only rows and the audit
   chain stay as they are (the chain hashes ids only, so it still verifies).
3. One `case.disposed` audit event per case records who (the scheduler: no actor), when, and
   which rule. A case already disposed of has no live key, so a re-run finds nothing to do.
4. Old page images are pushed out: SQLite runs with secure_delete=ON and we truncate the WAL;
   PostgreSQL rewrites the small case_key table (VACUUM FULL) when the role may.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from sqlalchemy import exists, func, select, text

from decision_aid import clock, crypto
from decision_aid.audit import record_event
from decision_aid.database import write_transaction
from decision_aid.extensions import db
from decision_aid.models import Organisation, User
from decision_aid.models.decision import Decision
from decision_aid.models.operations import CaseKey
from decision_aid.operations import events

log = logging.getLogger(__name__)


@dataclass
class RetentionReport:
    """What one run did (printed by the command and logged)."""

    drafts_purged: int = 0
    cases_disposed: list[str] = field(default_factory=list)
    rule: str = ""

    def summary(self) -> str:
        """One line for the scheduler's log."""
        return (f"{self.drafts_purged} abandoned drafts deleted; "
                f"{len(self.cases_disposed)} cases disposed of ({self.rule})")


def years_before(moment: dt.datetime, years: int) -> dt.datetime:
    """The same calendar moment `years` earlier (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def _organisation() -> Organisation:
    org = db.session.scalars(select(Organisation).limit(1)).first()
    if org is None:
        raise LookupError("no organisation set up")
    return org


def expired_cases(cutoff: dt.datetime) -> list[str]:
    """Case references whose latest decision is older than the cutoff and that still have a key."""
    live_key = exists().where(CaseKey.case_ref == Decision.case_ref, CaseKey.destroyed_at.is_(None))
    stmt = (select(Decision.case_ref).where(live_key).group_by(Decision.case_ref)
            .having(func.max(Decision.submitted_at) < cutoff).order_by(Decision.case_ref))
    return list(db.session.scalars(stmt))


def purge_drafts(now: dt.datetime) -> int:
    """The wizard's purge of abandoned drafts (it owns the rule and commits itself)."""
    from decision_aid.wizard.service import purge_abandoned_drafts

    return purge_abandoned_drafts(now)


def dispose_case(case_ref: str, rule: str, actor: User | None = None) -> bool:
    """Destroy one case's keys and append its tombstone event, in one transaction."""
    with write_transaction():
        destroyed = crypto.destroy_case_keys(case_ref, actor_id=str(actor.id) if actor else None,
                                             rule=rule)
        if not destroyed:
            return False
        decisions = db.session.scalar(
            select(func.count()).select_from(Decision).where(Decision.case_ref == case_ref))
        record_event(events.CASE_DISPOSED, actor=actor, case_ref=case_ref, data={
            "rule": rule, "keys_destroyed": [str(k) for k in destroyed],
            "decisions": int(decisions or 0)})
    return True


def flush_old_pages() -> None:
    """Make the overwritten key bytes leave the database files (see module docstring)."""
    engine = db.engine
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return
    if engine.dialect.name == "postgresql":
        try:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM FULL case_key"))
        except Exception:
            log.warning("could not VACUUM FULL case_key (run it as the owner role)", exc_info=True)


def run_retention(actor: User | None = None) -> RetentionReport:
    """One scheduled run: purge drafts, dispose of expired cases, flush old pages. Idempotent."""
    now = clock.now()
    org = _organisation()
    report = RetentionReport(rule=f"decision_retention_years={org.decision_retention_years}")
    report.drafts_purged = purge_drafts(now)
    cutoff = years_before(now, org.decision_retention_years)
    for case_ref in expired_cases(cutoff):
        if dispose_case(case_ref, report.rule, actor):
            report.cases_disposed.append(case_ref)
    db.session.commit()
    if report.cases_disposed or report.drafts_purged:
        with write_transaction():
            record_event(events.RETENTION_RUN, actor=actor, data={
                "drafts_purged": report.drafts_purged, "cases_disposed": len(report.cases_disposed),
                "rule": report.rule, "cutoff": cutoff.isoformat()})
        flush_old_pages()
    log.info("retention run: %s", report.summary())
    return report
