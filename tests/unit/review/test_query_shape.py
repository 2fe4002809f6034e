"""The PostgreSQL form of the queue query leaves the planner one ordered index (issue 8).

PostgreSQL drops a column compared with `=` from ORDER BY, after which the time-only index
(submitted_at, id) also gives the page order, and the planner walked it checking the filter row
by row (docs/review.md, "Indexes"). So on decision-driven lists the leading filter (the team when
there is no filter) is a range bound and leads the ORDER BY. Plans themselves need a million
analysed rows (bench/bench_review_queries.py); this checks the SQL that makes them possible.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from sqlalchemy.dialects import postgresql

from decision_aid.review.queue import QueueFilters, build_query

KEY = (dt.datetime(2026, 10, 1, tzinfo=dt.UTC), uuid.UUID(int=5))
PRACTITIONER = uuid.UUID(int=9)

# filter -> the decision column that must lead the index range (after `team_id =` for a team)
LEADS = {
    "recommendation": (QueueFilters(status="any", recommendation="do_not_share"), "recommendation"),
    "decision": (QueueFilters(status="any", outcome="share_part"), "outcome"),
    "departed": (QueueFilters(status="any", departed=True), "departed_from_recommendation"),
    "basis": (QueueFilters(status="any", basis="uk_gdpr.6.1.e"), "primary_lawful_basis"),
    "practitioner": (QueueFilters(status="any", practitioner=PRACTITIONER), "practitioner_id"),
    "not-shared": (QueueFilters(status="any", not_shared=True), "shared"),
    "two filters": (QueueFilters(status="any", recommendation="do_not_share",
                                 basis="uk_gdpr.6.1.e"), "primary_lawful_basis"),
}


def pg_sql(filters: QueueFilters, team_id: int | None,
           after: tuple[dt.datetime, uuid.UUID] | None = None) -> str:
    stmt = build_query(filters, team_id=team_id, exclude=None, after=after,
                       now=dt.datetime(2026, 11, 2, tzinfo=dt.UTC))
    return " ".join(str(stmt.compile(dialect=postgresql.dialect())).split())


def order_by(sql: str) -> str:
    return sql.split(" ORDER BY ", 1)[1].split(" LIMIT ", 1)[0]


@pytest.mark.parametrize("name", list(LEADS))
@pytest.mark.parametrize("team_id", [3, None])
def test_the_leading_filter_is_a_range_and_leads_the_order(name: str, team_id: int | None) -> None:
    filters, column = LEADS[name]
    sql = pg_sql(filters, team_id)
    expected = [f"decision.{column}", "decision.submitted_at", "decision.id"]
    assert order_by(sql) == ", ".join(expected)
    assert not re.search(rf"decision\.{column} = ", sql)
    assert f"decision.{column} >= " in sql and f"decision.{column} <= " in sql
    # With a filter the team is a plain equality in front of it (the index's first column).
    assert ("decision.team_id = " in sql) == (team_id is not None)


@pytest.mark.parametrize("team_id", [3, None])
def test_the_page_key_is_one_row_comparison_in_index_order(team_id: int | None) -> None:
    sql = pg_sql(LEADS["basis"][0], team_id, after=KEY)
    assert "(decision.primary_lawful_basis, decision.submitted_at, decision.id) >" in sql
    assert "decision.primary_lawful_basis <= " in sql  # a bound PostgreSQL stops the scan on


def test_lists_without_a_filter_order_by_team_then_time() -> None:
    sql = pg_sql(QueueFilters(status="any"), 3)
    assert order_by(sql) == "decision.team_id, decision.submitted_at, decision.id"
    assert "decision.team_id >= " in sql and "decision.team_id <= " in sql
    assert order_by(pg_sql(QueueFilters(status="any"), None)) == \
        "decision.submitted_at, decision.id"


def test_review_state_lists_keep_equality_and_time_order() -> None:
    """review_state has no time-only index, so `=` cannot mislead the planner there."""
    sql = pg_sql(QueueFilters(status="awaiting", not_shared=True), 3)
    assert "review_state.team_id = " in sql and "decision.shared = " in sql
    assert order_by(sql) == "review_state.submitted_at, review_state.decision_id"
