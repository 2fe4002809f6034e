"""The review queue and the DPO's list of decisions: filters, scope and keyset pagination.

Lists are ordered oldest first by (submitted_at, id) and paged by keyset ("after this key"),
never OFFSET: the database seeks straight to the key in a composite index, so page 400 costs
the same as page 1. Which index serves a query depends on the filter: decision columns use the
(team_id, column, submitted_at, id) and (column, submitted_at, id) indexes of migrations 0005 and
0008 (listed on the Decision model); review status and open emergency records come from the
review_state table's indexes. Every predicate is a plain comparison on an indexed column (no
function, no OR) and the page key is a row comparison in the index's column order, so both
SQLite and PostgreSQL seek straight to it (tests/integration/review/test_query_plans.py). A
supervisor with several teams gets one index range scan per team, merged here (an IN list would
force a sort of every matching row).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import heapq
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Select, func, literal, select, tuple_
from sqlalchemy.orm import load_only

from decision_aid import clock
from decision_aid.extensions import db
from decision_aid.models.decision import Decision
from decision_aid.models.review import AWAITING, REVIEWED, ReviewState

PAGE_SIZE = 50
STATUSES = ("awaiting", "reviewed", "any")
EMERGENCY_FILTERS = ("awaiting_completion", "overdue")
Key = tuple[dt.datetime, uuid.UUID]


@dataclass(frozen=True)
class Scope:
    """Whose decisions a user may list: some teams (supervisor) or all (DPO, team_ids None)."""

    team_ids: tuple[int, ...] | None
    exclude_practitioner: uuid.UUID | None = None


@dataclass(frozen=True)
class QueueFilters:
    """The filters of the list; None means 'any'."""

    status: str = "awaiting"
    recommendation: str | None = None
    outcome: str | None = None
    departed: bool | None = None
    emergency: str | None = None
    basis: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    practitioner: uuid.UUID | None = None
    not_shared: bool = False

    def active(self) -> bool:
        """True when any filter other than the default status is set."""
        return self != QueueFilters(status=self.status)


@dataclass
class Row:
    """One line of the list: the decision and its oversight state (None if never tracked)."""

    decision: Decision
    state: ReviewState | None

    @property
    def key(self) -> Key:
        return (self.decision.submitted_at, self.decision.id)


@dataclass
class Page:
    """A page of rows with the keys for the next and previous pages (None at either end)."""

    rows: list[Row]
    next_key: Key | None = None
    prev_key: Key | None = None
    names: dict[uuid.UUID, str] = field(default_factory=dict)


def encode_key(key: Key | None) -> str | None:
    """Opaque page token: the last row's submitted time and id."""
    if key is None:
        return None
    raw = f"{key[0].astimezone(dt.UTC).isoformat()}|{key[1].hex}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_key(token: str | None) -> Key | None:
    """Parse a page token; a malformed one means 'first page' rather than an error."""
    if not token or len(token) > 200:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        moment, _, hex_id = raw.partition("|")
        when = dt.datetime.fromisoformat(moment)
        return (when if when.tzinfo else when.replace(tzinfo=dt.UTC), uuid.UUID(hex=hex_id))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


# What a list row shows: the large JSON columns (answers, facts, result, sharing) stay unloaded.
LIST_COLUMNS = (
    Decision.id, Decision.reference, Decision.case_ref, Decision.practitioner_id, Decision.team_id,
    Decision.submitted_at, Decision.emergency, Decision.emergency_due_at, Decision.recommendation,
    Decision.primary_lawful_basis, Decision.outcome, Decision.departed_from_recommendation, Decision.shared,
)


def _driven_by_state(filters: QueueFilters) -> bool:
    return filters.status in (AWAITING, REVIEWED) or filters.emergency is not None


def _lead(filters: QueueFilters) -> tuple[Any, Any] | None:
    """The decision filter whose (column, submitted_at, id) index reads the list, if any.

    Most selective first; the other filters are checked on the rows that index yields.
    """
    candidates = (
        (Decision.practitioner_id, filters.practitioner),
        (Decision.outcome, filters.outcome or None),
        (Decision.primary_lawful_basis, filters.basis or None),
        (Decision.recommendation, filters.recommendation or None),
        (Decision.departed_from_recommendation, filters.departed),
        (Decision.shared, False if filters.not_shared else None),
    )
    return next(((column, value) for column, value in candidates if value is not None), None)


def _decision_filters(filters: QueueFilters, lead: Any = None) -> list[Any]:
    """WHERE clauses on decision columns (the lead column's bounds come from _bounds)."""
    clauses: list[Any] = []
    for column, value in (
        (Decision.recommendation, filters.recommendation or None),
        (Decision.outcome, filters.outcome or None),
        (Decision.departed_from_recommendation, filters.departed),
        (Decision.primary_lawful_basis, filters.basis or None),
        (Decision.practitioner_id, filters.practitioner),
        (Decision.shared, False if filters.not_shared else None),
    ):
        if value is not None and column is not lead:
            clauses.append(column == value)
    return clauses


def _state_filters(filters: QueueFilters, now: dt.datetime) -> list[Any]:
    clauses: list[Any] = []
    if filters.status in (AWAITING, REVIEWED):
        clauses.append(ReviewState.review_status == filters.status)
    if filters.emergency:
        clauses.append(ReviewState.emergency_open.is_(True))
    if filters.emergency == "overdue":
        clauses.append(ReviewState.emergency_due_at < now)
    return clauses


def _days(filters: QueueFilters) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The date filter as [start, end) in UTC: whole days, inclusive at both ends."""
    start = dt.datetime.combine(filters.date_from, dt.time(), dt.UTC) if filters.date_from else None
    end = (dt.datetime.combine(filters.date_to + dt.timedelta(days=1), dt.time(), dt.UTC)
           if filters.date_to else None)
    return start, end


def _row(columns: list[Any], values: list[Any], op: str) -> Any:
    """`(a, b, ...) op (x, y, ...)`, or a plain comparison for one column."""
    typed = [literal(value, column.type) for column, value in zip(columns, values, strict=True)]
    left = columns[0] if len(columns) == 1 else tuple_(*columns)
    right = typed[0] if len(typed) == 1 else tuple_(*typed)
    return {">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right}[op]


def _bounds(keys: list[Any], values: list[Any], filters: QueueFilters,
            after: Key | None, before: Key | None) -> list[Any]:
    """Lower and upper bound of the index range one page reads, as row comparisons.

    `keys` is [lead,] submitted_at, id, where the lead is the leading filter column, or the team
    when there is no filter (a team with a filter is a plain `team_id = t` in front of it). The
    lead is written as a range (`lead >= v AND lead <= v`, or a row comparison starting with it),
    not as `lead = v`: PostgreSQL drops a column compared with `=` from the ORDER BY, and could
    then walk the time-only index (submitted_at, id) checking the filter row by row, which it
    does when the matches look spread over time but are all recent (345 ms on 1M rows for a new
    lawful basis); ordered by the lead too, only the filter's own index gives the order. The
    upper bound stays a plain `lead <= v` where it can: PostgreSQL 15 stops a scan on the first
    column of a row comparison only, so `(team, lead) <= (t, v)` read on to the team's end.

    A bound the page key already implies is left out:
    SQLite seeks on one lower bound only, and would otherwise walk every earlier page again.
    """
    when, prefix = keys[-2], keys[:-2]
    start, end = _days(filters)
    clauses = []
    if after is not None:
        clauses.append(_row(keys, [*values, *after], ">"))
        if start is not None and after[0] < start:
            clauses.append(when >= start)
    elif start is not None:
        clauses.append(_row([*prefix, when], [*values, start], ">="))
    elif prefix:
        clauses.append(_row(prefix, values, ">="))
    if before is not None:
        clauses.append(_row(keys, [*values, *before], "<"))
        if end is not None and before[0] >= end:
            clauses.append(when < end)
    elif end is not None:
        clauses.append(_row([*prefix, when], [*values, end], "<"))
    elif prefix:
        clauses.append(_row(prefix, values, "<="))
    return clauses


def build_query(filters: QueueFilters, *, team_id: int | None, exclude: uuid.UUID | None,
                after: Key | None = None, before: Key | None = None,
                limit: int = PAGE_SIZE + 1, now: dt.datetime | None = None) -> Select[Any]:
    """One keyset query over one team (or all teams when team_id is None)."""
    prefix: list[tuple[Any, Any]] = []  # index columns before (submitted_at, id), with their values
    if _driven_by_state(filters):
        stmt = select(Decision, ReviewState).select_from(ReviewState).join(
            Decision, Decision.id == ReviewState.decision_id)
        when, ident = ReviewState.submitted_at, ReviewState.decision_id
        author = ReviewState.practitioner_id
        clauses = _decision_filters(filters)
        if team_id is not None:
            clauses.append(ReviewState.team_id == team_id)
    else:
        # Decision indexes: the lead filter (or the team) is a range bound (see _bounds).
        stmt = select(Decision, ReviewState).select_from(Decision).outerjoin(
            ReviewState, ReviewState.decision_id == Decision.id)
        when, ident, author = Decision.submitted_at, Decision.id, Decision.practitioner_id
        lead = _lead(filters)
        clauses = _decision_filters(filters, lead[0] if lead else None)
        if lead is not None:
            prefix.append(lead)
            if team_id is not None:
                clauses.append(Decision.team_id == team_id)
        elif team_id is not None:
            prefix.append((Decision.team_id, team_id))
    keys = [column for column, _ in prefix] + [when, ident]
    clauses += _state_filters(filters, now or clock.now())
    clauses += _bounds(keys, [value for _, value in prefix], filters, after, before)
    if exclude is not None:
        clauses.append(author != exclude)
    order = [key.desc() for key in keys] if before is not None else keys
    return stmt.where(*clauses).order_by(*order).limit(limit).options(load_only(*LIST_COLUMNS))


def _fetch(scope: Scope, filters: QueueFilters, after: Key | None, before: Key | None) -> list[Row]:
    """Up to PAGE_SIZE + 1 rows in the page's direction: one query per team, merged."""
    teams: Iterable[int | None] = (None,) if scope.team_ids is None else scope.team_ids
    now = clock.now()
    runs = []
    for team_id in teams:
        stmt = build_query(filters, team_id=team_id, exclude=scope.exclude_practitioner,
                           after=after, before=before, now=now)
        runs.append([Row(d, s) for d, s in db.session.execute(stmt).all()])
    reverse = before is not None
    merged = heapq.merge(*runs, key=lambda r: (r.key[0], r.key[1].hex), reverse=reverse)
    return [row for _, row in zip(range(PAGE_SIZE + 1), merged, strict=False)]


def list_page(scope: Scope, filters: QueueFilters, *, after: Key | None = None,
              before: Key | None = None) -> Page:
    """A page of the list, oldest first, with the neighbouring page keys."""
    if scope.team_ids == ():
        return Page(rows=[])
    rows = _fetch(scope, filters, after, before)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    if before is not None:
        rows.reverse()
        page = Page(rows, next_key=rows[-1].key if rows else None, prev_key=rows[0].key if more else None)
    else:
        page = Page(rows, next_key=rows[-1].key if more else None,
                    prev_key=rows[0].key if (after is not None and rows) else None)
    page.names = practitioner_names({r.decision.practitioner_id for r in rows})
    return page


def practitioner_names(ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Display names for the practitioners on one page (one small query)."""
    from decision_aid.models import User

    wanted = list(ids)
    if not wanted:
        return {}
    return dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(wanted))).tuples().all())


def counts(scope: Scope) -> dict[str, int]:
    """Decisions awaiting review and overdue emergency records: indexed COUNTs per team."""
    if not scope.team_ids:
        return {"awaiting": 0, "overdue": 0}
    now = clock.now()
    awaiting = select(func.count()).select_from(ReviewState).where(
        ReviewState.team_id.in_(scope.team_ids), ReviewState.review_status == AWAITING)
    if scope.exclude_practitioner is not None:
        awaiting = awaiting.where(ReviewState.practitioner_id != scope.exclude_practitioner)
    overdue = select(func.count()).select_from(ReviewState).where(
        ReviewState.team_id.in_(scope.team_ids), ReviewState.emergency_open.is_(True),
        ReviewState.emergency_due_at < now)
    return {"awaiting": int(db.session.scalar(awaiting) or 0), "overdue": int(db.session.scalar(overdue) or 0)}


def with_status(filters: QueueFilters, status: str) -> QueueFilters:
    """A copy with another status (used for the status tabs)."""
    return replace(filters, status=status)


def filter_args(filters: QueueFilters) -> Mapping[str, str]:
    """The query-string form of the filters (for page links that keep them)."""
    args = {"status": filters.status}
    for name in ("recommendation", "outcome", "emergency", "basis"):
        if getattr(filters, name):
            args[name] = str(getattr(filters, name))
    if filters.departed is not None:
        args["departed"] = "yes" if filters.departed else "no"
    if filters.date_from:
        args["from"] = filters.date_from.isoformat()
    if filters.date_to:
        args["to"] = filters.date_to.isoformat()
    if filters.practitioner:
        args["practitioner"] = str(filters.practitioner)
    if filters.not_shared:
        args["not-shared"] = "yes"
    return args
