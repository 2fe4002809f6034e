"""Dashboard figures for supervisors (their teams) and the DPO (everything).

All counting is done by the database (GROUP BY over the scoped, date-limited decisions); only the
small result sets come back to Python.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, case, func, select

from decision_aid import clock
from decision_aid.extensions import db
from decision_aid.models.decision import Decision
from decision_aid.models.review import Review, ReviewState
from decision_aid.review.charts import BarChart, bar_chart
from decision_aid.review.filters import OUTCOME_LABELS, label
from decision_aid.review.queue import Scope

DEFAULT_MONTHS = 12


def period_start(months: int = DEFAULT_MONTHS) -> dt.datetime:
    """The first day of the month `months - 1` months ago, UTC (so the trend has `months` bars)."""
    today = clock.now()
    year, month = today.year, today.month - (months - 1)
    while month <= 0:
        year, month = year - 1, month + 12
    return dt.datetime(year, month, 1, tzinfo=dt.UTC)


def _scoped(stmt: Select[Any], scope: Scope, since: dt.datetime) -> Select[Any]:
    stmt = stmt.where(Decision.submitted_at >= since)
    if scope.team_ids is not None:
        stmt = stmt.where(Decision.team_id.in_(scope.team_ids or (-1,)))
    return stmt


def _grouped(column: Any, scope: Scope, since: dt.datetime) -> list[tuple[Any, int]]:
    stmt = _scoped(select(column, func.count()).select_from(Decision), scope, since)
    return [(key, int(n)) for key, n in db.session.execute(stmt.group_by(column).order_by(column)).all()]


def _month(column: Any) -> Any:
    """'YYYY-MM' of a timestamp in the current dialect."""
    if db.engine.dialect.name == "sqlite":
        return func.strftime("%Y-%m", column)
    return func.to_char(func.timezone("UTC", column), "YYYY-MM")


def _disagreement(column: Any, scope: Scope, since: dt.datetime) -> list[tuple[str, float, int]]:
    """Share of verdicts that disagree, grouped by the rule the decision rested on."""
    disagree = func.sum(case((Review.verdict == "disagree", 1), else_=0))
    stmt = _scoped(select(column, func.count(), disagree).select_from(Review)
                   .join(Decision, Decision.id == Review.decision_id), scope, since)
    rows = db.session.execute(stmt.group_by(column).order_by(column)).all()
    return [(str(key or "none"), 100.0 * int(d or 0) / int(n), int(n)) for key, n, d in rows if n]


def overdue_emergencies(scope: Scope) -> int:
    """Emergency records past their completion deadline and still not completed."""
    stmt = select(func.count()).select_from(ReviewState).where(
        ReviewState.emergency_open.is_(True), ReviewState.emergency_due_at < clock.now())
    if scope.team_ids is not None:
        stmt = stmt.where(ReviewState.team_id.in_(scope.team_ids or (-1,)))
    return int(db.session.scalar(stmt) or 0)


def charts(scope: Scope, months: int = DEFAULT_MONTHS) -> dict[str, Any]:
    """Every chart on the dashboard, plus headline numbers."""
    since = period_start(months)
    outcome = [(OUTCOME_LABELS.get(k, label(k)), n) for k, n in _grouped(Decision.outcome, scope, since)]
    basis = [(str(k or "None recorded"), n) for k, n in _grouped(Decision.primary_lawful_basis, scope, since)]
    shared = [("Shared" if k else "Not shared", n) for k, n in _grouped(Decision.shared, scope, since)]
    departed = [("Departed" if k else "Followed", n)
                for k, n in _grouped(Decision.departed_from_recommendation, scope, since)]
    trend = _grouped(_month(Decision.submitted_at), scope, since)
    by_rec = _disagreement(Decision.recommendation, scope, since)
    by_basis = _disagreement(Decision.primary_lawful_basis, scope, since)
    result: dict[str, BarChart | int] = {
        "trend": bar_chart("chart-trend", "Decisions per month", [(str(k), n) for k, n in trend],
                           label_heading="Month"),
        "outcome": bar_chart("chart-outcome", "Decisions by outcome", outcome, label_heading="Outcome"),
        "shared": bar_chart("chart-shared", "Shared and not shared", shared, label_heading="Shared"),
        "departed": bar_chart("chart-departed", "Departures from the recommendation", departed,
                              label_heading="Recommendation"),
        "basis": bar_chart("chart-basis", "Decisions by lawful basis", basis, label_heading="Lawful basis"),
        "disagree_rec": bar_chart("chart-disagree-rec", "Disagreement rate by recommendation rule",
                                  [(label(k), r) for k, r, _ in by_rec], label_heading="Recommendation",
                                  value_heading="Verdicts that disagree", percent=True),
        "disagree_basis": bar_chart("chart-disagree-basis", "Disagreement rate by lawful basis rule",
                                    [(k, r) for k, r, _ in by_basis], label_heading="Lawful basis rule",
                                    value_heading="Verdicts that disagree", percent=True),
        "overdue": overdue_emergencies(scope),
        "total": sum(n for _, n in outcome),
    }
    return {"charts": result, "since": since.date(), "months": months}
