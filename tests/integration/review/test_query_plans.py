"""Every queue filter's query is an index search in page order, and the model declares the
indexes the migrations create (issue 8: "with the query plan using an index").

No timings here (speed is bench/bench_review_queries.py's job): the plan is read with EXPLAIN
QUERY PLAN on SQLite, whose choice does not depend on table size before ANALYZE, so a handful of
rows shows the plan a million would get. PostgreSQL's planner costs plans from statistics and
rightly reads a ten-row table sequentially, so its plan is asserted only by the benchmark, on a
million analysed rows; here PostgreSQL checks the migrated indexes against the model.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, inspect

from decision_aid.extensions import db
from decision_aid.models.decision import Decision
from decision_aid.models.review import ReviewState
from decision_aid.review.queue import QueueFilters, build_query
from tests.conftest import START
from tests.integration.review.conftest import Cast

# filter name -> (filters, driving index for one team, driving index for every team)
CASES: dict[str, tuple[QueueFilters, str, str]] = {
    "all": (QueueFilters(status="any"), "ix_decision_queue_team", "ix_decision_queue_all"),
    "awaiting": (QueueFilters(status="awaiting"),
                 "ix_review_state_team_status", "ix_review_state_status"),
    "reviewed": (QueueFilters(status="reviewed"),
                 "ix_review_state_team_status", "ix_review_state_status"),
    "recommendation": (QueueFilters(status="any", recommendation="do_not_share"),
                       "ix_decision_queue_team_recommendation", "ix_decision_queue_recommendation"),
    "decision": (QueueFilters(status="any", outcome="share_part"),
                 "ix_decision_queue_team_outcome", "ix_decision_queue_outcome"),
    "departed": (QueueFilters(status="any", departed=True),
                 "ix_decision_queue_team_departed", "ix_decision_queue_departed"),
    "followed": (QueueFilters(status="any", departed=False),
                 "ix_decision_queue_team_departed", "ix_decision_queue_departed"),
    "emergency-open": (QueueFilters(status="any", emergency="awaiting_completion"),
                       "ix_review_state_team_emergency", "ix_review_state_emergency"),
    "emergency-overdue": (QueueFilters(status="any", emergency="overdue"),
                          "ix_review_state_team_emergency", "ix_review_state_emergency"),
    "lawful-basis": (QueueFilters(status="any", basis="uk_gdpr.6.1.e"),
                     "ix_decision_queue_team_basis", "ix_decision_queue_basis"),
    "date-range": (QueueFilters(status="any", date_from=dt.date(2026, 3, 1),
                                date_to=dt.date(2026, 8, 31)),
                   "ix_decision_queue_team", "ix_decision_queue_all"),
    "practitioner": (QueueFilters(status="any", practitioner=uuid.UUID(int=7)),
                     "ix_decision_queue_team_practitioner", "ix_decision_queue_practitioner"),
    "not-shared": (QueueFilters(status="any", not_shared=True),
                   "ix_decision_queue_team_shared", "ix_decision_queue_shared"),
    "awaiting-not-shared": (QueueFilters(status="awaiting", not_shared=True),
                            "ix_review_state_team_status", "ix_review_state_status"),
}
PAGE_KEY = (START - dt.timedelta(days=30), uuid.UUID(int=1))


class LastStatement:
    """The SQL and parameters of the last statement sent to the driver (EXPLAIN needs both)."""

    def __init__(self) -> None:
        self.sql: str = ""
        self.params: Any = ()

    def __call__(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
                 many: bool) -> None:
        self.sql, self.params = statement, parameters


@pytest.fixture
def last_statement(app: Flask) -> Iterator[LastStatement]:
    with app.app_context():
        capture = LastStatement()
        event.listen(db.engine, "before_cursor_execute", capture)
        yield capture
        event.remove(db.engine, "before_cursor_execute", capture)


def sqlite_plan(filters: QueueFilters, team_id: int | None, after: Any,
                capture: LastStatement) -> list[str]:
    """EXPLAIN QUERY PLAN of the app's own query, as the app sends it."""
    stmt = build_query(filters, team_id=team_id, exclude=uuid.UUID(int=3), after=after, now=START)
    db.session.execute(stmt).all()
    cursor = db.session.connection().connection.driver_connection.cursor()
    cursor.execute("EXPLAIN QUERY PLAN " + capture.sql, capture.params)
    return [str(row[-1]) for row in cursor.fetchall()]


@pytest.fixture
def sqlite_only(database_url: str) -> None:
    """Skip before the corpus is made (first fixture of the test) on PostgreSQL."""
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL plans from statistics: the benchmark asserts them at 1M rows")


@pytest.mark.parametrize("scope", ["team", "everyone"])
@pytest.mark.parametrize("page", ["first", "deep"])
@pytest.mark.parametrize("name", list(CASES))
def test_each_filter_is_an_ordered_index_search(
        sqlite_only: None, app: Flask, cast: Cast, corpus: dict[str, Decision],
        last_statement: LastStatement, name: str, scope: str, page: str) -> None:
    filters, team_index, all_index = CASES[name]
    with app.app_context():
        team_id = corpus["lawful"].team_id if scope == "team" else None
        plan = sqlite_plan(filters, team_id, PAGE_KEY if page == "deep" else None, last_statement)
    driving = plan[0]
    expected = team_index if scope == "team" else all_index
    # "SCAN decision USING INDEX ix_decision_queue_all" (every decision, first page) is an index
    # walk in page order that stops after one page; any other filter seeks (SEARCH).
    assert driving.split(" (")[0].endswith(f"USING INDEX {expected}"), plan
    walk = (name, scope, page) == ("all", "everyone", "first")
    assert driving.startswith("SEARCH ") or walk, plan
    assert not [line for line in plan if line.startswith("SCAN ") and "USING" not in line], plan
    # No sort step: the index gives the page order.
    assert not [line for line in plan if "TEMP B-TREE" in line], plan
    if page == "deep":
        # The page key is part of the seek, not a filter: (submitted_at,id)>(?,?), or with the
        # team and filter columns in front, (team_id,recommendation,submitted_at,id)>(?,?,?,?).
        assert re.search(r"\((\w+,)*submitted_at,(decision_)?id\)>\(", driving), plan


def _declared(table: Any) -> dict[str, list[str]]:
    return {index.name: [c.name for c in index.columns] for index in table.indexes}


def _migrated(table: str) -> dict[str, list[str]]:
    return {ix["name"]: list(ix["column_names"]) for ix in inspect(db.engine).get_indexes(table)
            if ix["name"].startswith("ix_")}


@pytest.mark.parametrize("model", [Decision, ReviewState])
def test_migrations_create_exactly_the_indexes_the_model_declares(app: Flask, model: Any) -> None:
    with app.app_context():
        assert _migrated(model.__tablename__) == _declared(model.__table__)


def test_no_decision_index_is_a_prefix_of_another(app: Flask) -> None:
    """A shorter index that a queue index starts with only gives the planner a worse choice."""
    declared = _declared(Decision.__table__)
    prefixes = [(short, long) for short, a in declared.items() for long, b in declared.items()
                if short != long and b[:len(a)] == a]
    assert prefixes == []


def test_migration_0008_downgrades_to_the_old_indexes_and_back(app: Flask) -> None:
    from flask_migrate import downgrade, upgrade

    with app.app_context():
        downgrade(revision="0007_review_sealing")
        db.session.remove()
        old = _migrated("decision")
        assert old["ix_decision_submitted_at"] == ["submitted_at"]
        assert "ix_decision_queue_team_practitioner" not in old
        upgrade()
        db.session.remove()
        assert _migrated("decision") == _declared(Decision.__table__)
