"""Searching the whole audit log (the DPO's "Audit log" page, quality target T26).

One page is at most 50 events, newest first (seq DESC), filtered by any mix of actor, case
reference, event type and a date range; the next page is "everything before this seq" (keyset
pagination: no OFFSET, so page 400 costs what page 1 costs).

Why every filter is one index range scan:

* actor, case reference and event type each have an index ending in seq ((actor_id, seq),
  (case_ref, seq), (event_type, seq), migration 0002). With one of them as the leading equality
  the rows come out of the index already in seq order, bounded by `seq < before`, and the scan
  stops after 51 matches whatever the depth. Further filters are checked on the rows read.
* the date range is turned into a seq window first, with two seeks on the (occurred_at, seq)
  index (the first entry stamped on or after the start, the last stamped before the end), and then
  it is a seq range like any other: `lo <= seq < before`, seq <= hi. The occurred_at test
  itself is kept in the WHERE clause as well, so the window can only narrow the scan, never add
  a row that is outside the dates.

Why not page through the (occurred_at, seq) index instead: the list is ordered by seq, and an
index led by occurred_at gives rows in time order, so a date range combined with `ORDER BY seq DESC` needs
either a sort of every event in the range (a month is ~100,000 rows on a busy log) or a walk
of the seq order that reads every later event before reaching an old range. The seq window
keeps one shape for every combination, and each seek is one Index Only Scan (migration 0009
extended 0002's occurred_at index with seq for that; on SQLite it already carried the rowid).

What the window relies on: `occurred_at` never decreasing along seq. record_event stamps the
time from the application clock after taking the append lock, so appends are stamped in seq
order by one clock. It is NOT enforced: a wall clock stepped back (NTP correction, a VM
restored, two app hosts with skewed clocks) could stamp a later entry earlier. Then an entry
stamped inside the range but lying outside the window would be left out near the range's
edges (never one outside the dates: the occurred_at test stays exact). Enforcing it at append
time (stamp max(now, head's stamp)) is proposed to the audit module's owner; see docs/audit-log.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select, text
from sqlalchemy.orm import Session

from decision_aid.models.audit import AuditEvent

PAGE_SIZE = 50
SYSTEM_ACTOR = "system"  # the actor filter's value for events recorded with actor=None


@dataclass(frozen=True)
class AuditFilters:
    """What the DPO asked for; None means "any". Dates are whole UTC days, both inclusive."""

    actor_id: str | None = None
    case_ref: str | None = None
    event_type: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def keys(self) -> list[str]:
        """The names of the filters in use (what the search event records: never the values)."""
        return [name for name, value in vars(self).items() if value is not None]


@dataclass(frozen=True)
class AuditPage:
    """One page of events, newest first, and the key of the next (older) page, if any."""

    events: list[AuditEvent]
    older_before: int | None


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def seq_window(session: Session, filters: AuditFilters) -> tuple[int | None, int | None] | None:
    """(lowest, highest) seq that can fall in the date range, or None when nothing can.

    Two index seeks on occurred_at (see the module docstring for what this relies on). A bound
    that the range does not set is returned as None.
    """
    low = high = None
    if filters.date_from is not None:
        start = _start_of(filters.date_from)
        low = session.scalar(select(AuditEvent.seq).where(AuditEvent.occurred_at >= start)
                             .order_by(AuditEvent.occurred_at, AuditEvent.seq).limit(1))
        if low is None:
            return None
    if filters.date_to is not None:
        end = _start_of(filters.date_to + dt.timedelta(days=1))
        high = session.scalar(select(AuditEvent.seq).where(AuditEvent.occurred_at < end)
                              .order_by(AuditEvent.occurred_at.desc(), AuditEvent.seq.desc()).limit(1))
        if high is None:
            return None
    if low is not None and high is not None and low > high:
        return None
    return low, high


def _actor_condition(actor_id: str) -> Any:
    return AuditEvent.actor_id.is_(None) if actor_id == SYSTEM_ACTOR else AuditEvent.actor_id == actor_id


def page_query(filters: AuditFilters, before: int | None,
               window: tuple[int | None, int | None] = (None, None)) -> Select[tuple[AuditEvent]]:
    """The keyset query: every filter, seq below `before`, newest first, one row more than a page.

    The extra row only tells whether an older page exists. The seq window comes from
    `seq_window` (pass it when a date is set).
    """
    stmt = select(AuditEvent)
    if filters.actor_id is not None:
        stmt = stmt.where(_actor_condition(filters.actor_id))
    if filters.case_ref is not None:
        stmt = stmt.where(AuditEvent.case_ref == filters.case_ref)
    if filters.event_type is not None:
        stmt = stmt.where(AuditEvent.event_type == filters.event_type)
    low, high = window
    if filters.date_from is not None:
        stmt = stmt.where(AuditEvent.occurred_at >= _start_of(filters.date_from))
    if filters.date_to is not None:
        stmt = stmt.where(AuditEvent.occurred_at < _start_of(filters.date_to + dt.timedelta(days=1)))
    if low is not None:
        stmt = stmt.where(AuditEvent.seq >= low)
    upper = min(v for v in (before, None if high is None else high + 1) if v is not None) \
        if (before is not None or high is not None) else None
    if upper is not None:
        stmt = stmt.where(AuditEvent.seq < upper)
    return stmt.order_by(AuditEvent.seq.desc()).limit(PAGE_SIZE + 1)


def plan_with_values(session: Session) -> None:
    """PostgreSQL: plan this transaction's statements with their values, never generically.

    psycopg prepares a statement once it has run 5 times on a connection, and the server may
    then reuse one plan made without the values. For these pages that plan is wrong: with
    default estimates for `seq >= $ AND seq < $` and the occurred_at range it read the
    (occurred_at, seq) index and sorted, 190-280 ms a page on 1M events instead of 0.3 ms.
    Planning with the values costs ~0.1 ms. SET LOCAL ends with the transaction.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def search(session: Session, filters: AuditFilters, before: int | None = None) -> AuditPage:
    """One page of matching events, newest first; `before` is the previous page's last seq."""
    plan_with_values(session)
    window: tuple[int | None, int | None] = (None, None)
    if filters.date_from is not None or filters.date_to is not None:
        found = seq_window(session, filters)
        if found is None:
            return AuditPage([], None)
        window = found
    rows = list(session.scalars(page_query(filters, before, window)))
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return AuditPage(rows, rows[-1].seq if more else None)


def event_label(event_type: str) -> str:
    """An event type in words: "record.pdf_downloaded" -> "Record pdf downloaded"."""
    words = event_type.replace(".", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]
