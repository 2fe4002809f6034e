"""Review-queue benchmark (issue 8): every filter at page 1 and at a deep page, on 1M decisions.

    .venv/bin/python bench/bench_review_queries.py                # SQLite (cached in bench/.cache)
    .venv/bin/python bench/bench_review_queries.py --pg URL       # also PostgreSQL (throwaway DB)
    .venv/bin/python bench/bench_review_queries.py --rows 100000  # a smaller run
    .venv/bin/python bench/bench_review_queries.py --no-sqlite --pg URL --out /tmp/review.json
    .venv/bin/python bench/bench_review_queries.py --no-sqlite --pg URL --pg-recent-basis  # skewed

The database is made by the real migrations, then filled with the secondary indexes dropped and
rebuilt afterwards, then ANALYZEd. SQLite: rows generated in Python and bulk-inserted, the file
cached under bench/.cache (brought to the newest migration and re-analysed when reused).
PostgreSQL: a throwaway database (tests.fixtures_db.postgres_database) filled by the server itself
with generate_series (about 50 s for 1M rows), then VACUUM ANALYZE. Each query is the app's own
(decision_aid.review.queue.build_query); the time is server-side: the SQL the app sends, executed
and 51 rows fetched on the driver's cursor (the "app" figure adds the ORM). The deep page is
reached by walking keyset pages until at least 20,000 rows in (or the last page when the filter
matches fewer). The plan is read with EXPLAIN QUERY PLAN / EXPLAIN and must be an index search in
page order (plan_ok). Results go to bench/results/review.json unless --out says otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

CACHE = ROOT / "bench" / ".cache"
RESULTS = ROOT / "bench" / "results" / "review.json"
TEAMS, PER_TEAM = 20, 20
DEEP_ROWS = 20_000
TARGET_MS = 10.0
START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)
RECS = ("share_urgently", "duty_to_share", "lawful_to_share", "do_not_share", "seek_advice")
BASES = ("uk_gdpr.6.1.c", "uk_gdpr.6.1.d", "uk_gdpr.6.1.e", "uk_gdpr.6.1.ea.safeguarding",
         "uk_gdpr.6.1.f", "dpa2018.s35.2.a", None)
DECISION_COLS = ("id", "reference", "case_ref", "organisation_id", "practitioner_id", "team_id", "as_at",
                 "submitted_at", "emergency", "emergency_due_at", "answers", "facts", "result",
                 "ruleset_version", "ruleset_digest", "recommendation", "primary_lawful_basis", "outcome",
                 "departed_from_recommendation", "shared", "consent_position", "sharing")
STATE_COLS = ("decision_id", "team_id", "practitioner_id", "submitted_at", "review_status",
              "latest_verdict", "emergency_open", "emergency_due_at")


# ---------------------------------------------------------------- building the data set
def make_app(url: str, tmp: Path) -> Any:
    from decision_aid import create_app

    return create_app({"DEPLOYMENT": "test", "TESTING": True, "SECRET_KEY": "bench-" + "x" * 40,
                       "SQLALCHEMY_DATABASE_URI": url, "CHECKPOINT_DIR": str(tmp / "cp"),
                       "SERVER_NAME": "localhost"})


def migrate(url: str, tmp: Path) -> None:
    from flask_migrate import upgrade

    from decision_aid.extensions import db

    app = make_app(url, tmp)
    with app.app_context():
        upgrade()
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


def people() -> list[tuple[uuid.UUID, int]]:
    """(practitioner id, team id) for every practitioner; team ids are 1..TEAMS."""
    rng = random.Random(7)
    return [(uuid.UUID(int=rng.getrandbits(128), version=4), team) for team in range(1, TEAMS + 1)
            for _ in range(PER_TEAM)]


def decision_rows(rows: int, staff: list[tuple[uuid.UUID, int]]) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...]]]:
    """Decisions oldest first over ~22 months, with realistic proportions, and their state rows."""
    rng = random.Random(42)
    span = (NOW - START).total_seconds()
    for i in range(rows):
        when = START + dt.timedelta(seconds=span * i / rows + rng.random())
        pid, team = staff[rng.randrange(len(staff))]
        rec = RECS[rng.choices(range(5), weights=(3, 10, 50, 20, 17))[0]]
        departed = rng.random() < 0.1
        outcome = {"share_urgently": "share_now", "do_not_share": "do_not_share",
                   "seek_advice": "wait_for_advice"}.get(rec, "share_all")
        if departed:
            outcome = "do_not_share" if outcome != "do_not_share" else "share_part"
        shared = outcome in ("share_all", "share_part", "share_now")
        emergency = outcome == "share_now"
        due = when + dt.timedelta(hours=24) if emergency else None
        open_emergency = emergency and (when > NOW - dt.timedelta(days=3) or rng.random() < 0.002)
        selected = departed or (shared and rng.random() < 0.3) or emergency or rng.random() < 0.1
        status = None if not selected else ("awaiting" if when > NOW - dt.timedelta(days=20) or
                                            rng.random() < 0.01 else "reviewed")
        did = uuid.UUID(int=rng.getrandbits(128), version=4)
        decision = (did, f"DA-{when.year}-{i:07d}", f"CASE-{rng.randrange(10**6):06d}", 1, pid, team,
                    when.date(), when, emergency, due, "{}", "{}", "{}", "1.0.0", "sha256:bench",
                    rec, BASES[rng.randrange(len(BASES))], outcome, departed, shared,
                    rng.choice(("given", "refused", "would_prejudice_protection")), "{}")
        state = (did, team, pid, when, status, "agree" if status == "reviewed" else None,
                 open_emergency, due if open_emergency else None)
        yield decision, state


def seed_people(conn: Any, staff: list[tuple[uuid.UUID, int]]) -> None:
    """Organisation, teams and users through the ORM tables (small)."""
    conn.execute(text("INSERT INTO organisation (id, name, org_type, is_designated_agency, "
                      "provides_services_for_relevant_person, apd_in_place, apd_version, case_ref_pattern, "
                      "case_ref_example, protective_marking, advice_contacts, draft_retention_days, "
                      "decision_retention_years, emergency_completion_hours, s16la_commencement, "
                      "s16la_commencement_confirmed, mfa_required_for_practitioners) VALUES (1, 'Bench', "
                      "'charity', false, false, false, '', 'x', 'CASE-1', 'OFFICIAL', '[]', 30, 7, 24, "
                      "'2026-09-30', false, true)"))
    for team in range(1, TEAMS + 1):
        conn.execute(text("INSERT INTO team (id, organisation_id, name) VALUES (:i, 1, :n)"),
                     {"i": team, "n": f"Team {team}"})
    for n, (pid, team) in enumerate(staff):
        conn.execute(text("INSERT INTO app_user (id, email, display_name, job_title, role, password_hash, "
                          "active, created_at) VALUES (:id, :e, :d, '', 'practitioner', 'x', true, :t)"),
                     {"id": pid.hex if conn.dialect.name == "sqlite" else pid, "e": f"p{n}@bench.example",
                      "d": f"Practitioner {n}", "t": START})
        conn.execute(text("INSERT INTO team_membership (user_id, team_id) VALUES (:u, :t)"),
                     {"u": pid.hex if conn.dialect.name == "sqlite" else pid, "t": team})


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def fill_sqlite(path: Path, rows: int) -> None:
    """Fill a migrated SQLite file, then ANALYZE and `PRAGMA optimize` (what a deployment runs).

    The secondary indexes are dropped for the load and rebuilt from their stored SQL afterwards:
    one sorted build per index instead of a million random inserts into each.
    """
    import sqlite3

    staff = people()
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        seed_people(conn, staff)
    engine.dispose()
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-400000")
    indexes = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                         "AND sql IS NOT NULL AND tbl_name IN ('decision', 'review_state')"
                         ).fetchall()
    for name, _ in indexes:
        db.execute(f'DROP INDEX "{name}"')
    d_sql = f"INSERT INTO decision ({', '.join(DECISION_COLS)}) VALUES ({', '.join('?' * len(DECISION_COLS))})"
    s_sql = f"INSERT INTO review_state ({', '.join(STATE_COLS)}) VALUES ({', '.join('?' * len(STATE_COLS))})"
    batch_d: list[Any] = []
    batch_s: list[Any] = []
    for decision, state in decision_rows(rows, staff):
        batch_d.append(tuple(_sqlite_value(v) for v in decision))
        batch_s.append(tuple(_sqlite_value(v) for v in state))
        if len(batch_d) >= 50_000:
            db.executemany(d_sql, batch_d)
            db.executemany(s_sql, batch_s)
            db.commit()
            batch_d, batch_s = [], []
    db.executemany(d_sql, batch_d)
    db.executemany(s_sql, batch_s)
    for _, ddl in indexes:
        db.execute(ddl)
    db.commit()
    db.execute("ANALYZE")
    db.execute("PRAGMA optimize")
    db.commit()
    db.execute("PRAGMA journal_mode=DELETE")  # fold the WAL back in before the file is renamed
    db.close()


# ------------------------------------------------------- PostgreSQL: generated by the server
# The same proportions as decision_rows(), but drawn by the server (generate_series, random()
# after setseed), so 1,000,000 rows cost one INSERT ... SELECT instead of a million Python tuples.
PG_DECISIONS = """
WITH g AS MATERIALIZED (
    SELECT i, CAST(:start AS timestamptz)
              + make_interval(secs => :span * i / :rows + random()) AS at,
           floor(random() * :staff)::int AS s, random() AS r_rec, random() < 0.1 AS departed,
           floor(random() * 7)::int AS b, floor(random() * 3)::int AS c,
           floor(random() * 1000000)::int AS k
    FROM generate_series(0, :rows - 1) AS i
), r AS (
    SELECT g.*, CASE WHEN r_rec < 0.03 THEN 'share_urgently' WHEN r_rec < 0.13 THEN 'duty_to_share'
                     WHEN r_rec < 0.63 THEN 'lawful_to_share' WHEN r_rec < 0.83 THEN 'do_not_share'
                     ELSE 'seek_advice' END AS rec
    FROM g
), o AS (
    SELECT r.*, CASE WHEN NOT departed THEN base WHEN base = 'do_not_share' THEN 'share_part'
                     ELSE 'do_not_share' END AS outcome
    FROM (SELECT r.*, CASE rec WHEN 'share_urgently' THEN 'share_now'
                               WHEN 'do_not_share' THEN 'do_not_share'
                               WHEN 'seek_advice' THEN 'wait_for_advice'
                               ELSE 'share_all' END AS base
          FROM r) AS r
)
INSERT INTO decision (id, reference, case_ref, organisation_id, practitioner_id, team_id, as_at,
                      submitted_at, emergency, emergency_due_at, answers, facts, result,
                      ruleset_version, ruleset_digest, recommendation, primary_lawful_basis,
                      outcome, departed_from_recommendation, shared, consent_position, sharing)
SELECT md5('decision-' || o.i)::uuid,
       'DA-' || extract(year FROM o.at AT TIME ZONE 'UTC') || '-' || lpad(o.i::text, 7, '0'),
       'CASE-' || lpad(o.k::text, 6, '0'), 1, st.pid, st.team, (o.at AT TIME ZONE 'UTC')::date,
       o.at, o.outcome = 'share_now',
       CASE WHEN o.outcome = 'share_now' THEN o.at + interval '24 hours' END,
       '{}', '{}', '{}', '1.0.0', 'sha256:bench', o.rec,
       (ARRAY['uk_gdpr.6.1.c', 'uk_gdpr.6.1.d', 'uk_gdpr.6.1.e', 'uk_gdpr.6.1.ea.safeguarding',
              'uk_gdpr.6.1.f', 'dpa2018.s35.2.a', NULL])[o.b + 1],
       o.outcome, o.departed, o.outcome IN ('share_all', 'share_part', 'share_now'),
       (ARRAY['given', 'refused', 'would_prejudice_protection'])[o.c + 1], '{}'
FROM o JOIN bench_staff AS st ON st.n = o.s
ORDER BY o.i
"""

PG_STATES = """
WITH d AS MATERIALIZED (
    SELECT id, team_id, practitioner_id, submitted_at, emergency, emergency_due_at,
           departed_from_recommendation OR (shared AND random() < 0.3) OR emergency
               OR random() < 0.1 AS selected,
           submitted_at > CAST(:now AS timestamptz) - interval '20 days'
               OR random() < 0.01 AS waiting,
           emergency AND (submitted_at > CAST(:now AS timestamptz) - interval '3 days'
                          OR random() < 0.002) AS open
    FROM decision
)
INSERT INTO review_state (decision_id, team_id, practitioner_id, submitted_at, review_status,
                          latest_verdict, emergency_open, emergency_due_at)
SELECT id, team_id, practitioner_id, submitted_at,
       CASE WHEN NOT selected THEN NULL WHEN waiting THEN 'awaiting' ELSE 'reviewed' END,
       CASE WHEN selected AND NOT waiting THEN 'agree' END, open,
       CASE WHEN open THEN emergency_due_at END
FROM d ORDER BY submitted_at, id
"""


def _pg_secondary_indexes(conn: Any) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of the queue tables' indexes that no constraint owns."""
    return [(name, ddl) for name, ddl in conn.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes AS i "
        "WHERE i.tablename IN ('decision', 'review_state') "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conname = i.indexname)"
    ).fetchall()]


def fill_postgres(url: str, rows: int) -> None:
    """Fill a migrated database with `rows` decisions generated by the server, then ANALYZE.

    The secondary indexes are dropped for the load and rebuilt afterwards (one sorted build each
    instead of a million random inserts); the rebuilt set is exactly the migrations' set.
    """
    import psycopg

    staff = people()
    engine = create_engine(url)
    with engine.begin() as conn:
        seed_people(conn, staff)
    engine.dispose()
    raw = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    params = {"start": START, "span": (NOW - START).total_seconds(), "rows": rows,
              "staff": len(staff), "now": NOW}
    with psycopg.connect(raw) as conn:
        conn.execute("SET maintenance_work_mem = '256MB'")
        # No foreign-key trigger per row: the rows are consistent by construction. Needs a
        # superuser; without one the load still works, only slower.
        try:
            with conn.transaction():
                conn.execute("SET session_replication_role = replica")
        except psycopg.errors.InsufficientPrivilege:
            print("  (not a superuser: foreign keys are checked row by row during the load)")
        indexes = _pg_secondary_indexes(conn)
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        _pg_staff_table(conn, staff)
        with conn.cursor() as cur:
            cur.execute("SELECT setseed(0.42)")
            cur.execute(_pg_named(PG_DECISIONS), params)
            cur.execute(_pg_named(PG_STATES), params)
        for _, ddl in indexes:
            conn.execute(ddl)
        conn.commit()
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE decision")
        conn.execute("VACUUM ANALYZE review_state")


def _pg_staff_table(conn: Any, staff: list[tuple[uuid.UUID, int]]) -> None:
    conn.execute("CREATE TEMP TABLE bench_staff (n int PRIMARY KEY, pid uuid, team int)")
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO bench_staff VALUES (%s, %s, %s)",
                        [(n, pid, team) for n, (pid, team) in enumerate(staff)])


# A lawful basis that a new rule set introduced a month ago: all its decisions are recent.
RECENT_BASIS = "bench.recent_basis"
PG_RECENT = """
INSERT INTO decision (id, reference, case_ref, organisation_id, practitioner_id, team_id, as_at,
                      submitted_at, emergency, emergency_due_at, answers, facts, result,
                      ruleset_version, ruleset_digest, recommendation, primary_lawful_basis,
                      outcome, departed_from_recommendation, shared, consent_position, sharing)
SELECT md5('recent-' || g.i)::uuid, 'DR-' || lpad(g.i::text, 7, '0'), 'CASE-000000', 1, st.pid,
       st.team, (g.at AT TIME ZONE 'UTC')::date, g.at, false, NULL, '{}', '{}', '{}', '2.0.0',
       'sha256:bench', 'lawful_to_share', :basis, 'share_all', false, true, 'given', '{}'
FROM (SELECT i, CAST(:now AS timestamptz) - make_interval(secs => 30 * 86400 * random()) AS at,
             floor(random() * :staff)::int AS s
      FROM generate_series(0, :count - 1) AS i) AS g
JOIN bench_staff AS st ON st.n = g.s
"""


def add_recent_basis(url: str, count: int) -> None:
    """`count` more decisions, all in the last 30 days, with RECENT_BASIS (--pg-recent-basis).

    The planner sees the value's share of all rows but not that they are all at the end of
    the time order: the case that made PostgreSQL walk the time index (docs/review.md).
    """
    import psycopg

    raw = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    params = {"basis": RECENT_BASIS, "now": NOW, "staff": len(people()), "count": count}
    with psycopg.connect(raw) as conn:
        _pg_staff_table(conn, people())
        with conn.cursor() as cur:
            cur.execute(_pg_named(PG_RECENT), params)
            cur.execute("INSERT INTO review_state (decision_id, team_id, practitioner_id, "
                        "submitted_at, emergency_open) SELECT id, team_id, practitioner_id, "
                        "submitted_at, false FROM decision WHERE primary_lawful_basis = %(basis)s",
                        params)
        conn.commit()
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE decision")
        conn.execute("VACUUM ANALYZE review_state")


def _pg_named(sql: str) -> str:
    """:name placeholders (readable above) in psycopg's %(name)s style."""
    return re.sub(r"(?<![:\w]):(start|span|rows|staff|now|basis|count)\b", r"%(\1)s", sql)


# ---------------------------------------------------------------- measuring
def filter_cases(recent_basis: bool = False) -> dict[str, Any]:
    from decision_aid.review.queue import QueueFilters

    staff = people()
    recent = QueueFilters(status="any", basis=RECENT_BASIS)
    extra = {"lawful_basis_recent": recent} if recent_basis else {}
    return {**extra,
        "all": QueueFilters(status="any"),
        "status_awaiting": QueueFilters(status="awaiting"),
        "status_reviewed": QueueFilters(status="reviewed"),
        "recommendation": QueueFilters(status="any", recommendation="do_not_share"),
        "decision": QueueFilters(status="any", outcome="share_part"),
        "departed": QueueFilters(status="any", departed=True),
        "emergency_open": QueueFilters(status="any", emergency="awaiting_completion"),
        "emergency_overdue": QueueFilters(status="any", emergency="overdue"),
        "lawful_basis": QueueFilters(status="any", basis="uk_gdpr.6.1.e"),
        "date_range": QueueFilters(status="any", date_from=dt.date(2026, 3, 1), date_to=dt.date(2026, 8, 31)),
        "practitioner": QueueFilters(status="any", practitioner=staff[3][0]),
        "not_shared": QueueFilters(status="any", not_shared=True),
        "awaiting_and_not_shared": QueueFilters(status="awaiting", not_shared=True),
    }


class Capture:
    """Remembers the last SQL statement and parameters sent to the driver (for EXPLAIN)."""

    def __init__(self, engine: Any) -> None:
        self.last: tuple[str, Any] = ("", ())
        event.listen(engine, "before_cursor_execute", self.hook)

    def hook(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        self.last = (statement, parameters)


def explain(conn: Any, dialect: str, statement: str, parameters: Any) -> list[str]:
    raw = conn.connection.driver_connection
    cur = raw.cursor()
    if dialect == "sqlite":
        cur.execute("EXPLAIN QUERY PLAN " + statement, parameters)
        return [str(row[-1]) for row in cur.fetchall()]
    cur.execute("EXPLAIN " + statement, parameters)
    return [str(row[0]) for row in cur.fetchall()]


INDEX_NAME = re.compile(r"(?:USING (?:COVERING )?INDEX|Index (?:Only )?Scan(?: Backward)? using|"
                        r"Bitmap Index Scan on) (\w+)")


def plan_indexes(plan: list[str]) -> list[str]:
    """The indexes a plan reads, in plan order (primary-key look-ups of the join included)."""
    return [m.group(1) for line in plan for m in INDEX_NAME.finditer(line)]


PG_SORT = re.compile(r"(?:^|->)\s*(?:Incremental )?Sort\s+\(cost=\S+ rows=(\d+)", re.MULTILINE)


def plan_ok(dialect: str, plan: list[str]) -> bool:
    """An index search giving rows in page order: no full scan, no sort of more than a page.

    SQLite: no `SCAN table` without an index and no `USE TEMP B-TREE` (a sort). PostgreSQL: no
    Seq Scan, an index read, and no Sort or Incremental Sort node expected to take more rows than
    one page (51): when an index condition leaves only a handful of rows (open emergency records
    of one team, say) the planner may fetch them by bitmap and sort them, which is as cheap.
    """
    from decision_aid.review.queue import PAGE_SIZE

    text_plan = "\n".join(plan)
    if dialect == "sqlite":
        scans = [p for p in plan if p.startswith("SCAN") and "USING" not in p]
        return not scans and "TEMP B-TREE" not in text_plan and "INDEX" in text_plan
    big_sorts = [rows for rows in PG_SORT.findall(text_plan) if int(rows) > PAGE_SIZE + 1]
    return "Seq Scan" not in text_plan and not big_sorts and bool(plan_indexes(plan))


def run_page(session: Any, stmt: Any) -> list[Any]:
    return session.execute(stmt).all()


def measure(app: Any, scope_team: int | None, exclude: uuid.UUID | None, repeats: int,
            recent_basis: bool = False) -> dict[str, Any]:
    from decision_aid.extensions import db
    from decision_aid.review.queue import PAGE_SIZE, build_query

    out: dict[str, Any] = {}
    with app.app_context():
        capture = Capture(db.engine)
        dialect = db.engine.dialect.name
        for name, filters in filter_cases(recent_basis).items():
            def query(after: Any, f: Any = filters) -> Any:
                return build_query(f, team_id=scope_team, exclude=exclude, after=after, now=NOW)

            first = run_page(db.session, query(None))
            first_sql = capture.last
            plan = explain(db.session.connection(), dialect, *first_sql)
            after, depth, rows = None, 0, first
            while len(rows) > PAGE_SIZE and depth < DEEP_ROWS:
                after = (rows[PAGE_SIZE - 1][0].submitted_at, rows[PAGE_SIZE - 1][0].id)
                depth += PAGE_SIZE
                rows = run_page(db.session, query(after))
                db.session.expunge_all()
            deep_sql = capture.last
            deep_plan = explain(db.session.connection(), dialect, *deep_sql)
            conn = db.session.connection()
            result = {"page1": raw_timing(conn, *first_sql, repeats),
                      "deep": raw_timing(conn, *deep_sql, repeats),
                      "page1_app": timing(db.session, lambda: query(None), repeats),
                      "deep_app": timing(db.session, lambda a=after: query(a), repeats),
                      "deep_rows_in": depth, "matches_page1": len(first),
                      "plan": plan, "deep_plan": deep_plan,
                      "index_used": plan_ok(dialect, plan) and plan_ok(dialect, deep_plan),
                      "indexes": plan_indexes(plan), "deep_indexes": plan_indexes(deep_plan)}
            if dialect == "postgresql":
                result["page1_pg_exec"] = pg_execution_timing(conn, *first_sql, repeats)
                result["deep_pg_exec"] = pg_execution_timing(conn, *deep_sql, repeats)
            out[name] = result
            print_case(name, depth, result)
            for label, lines in (("page 1", plan), ("deep", deep_plan)):
                print(f"      {label}: " + "\n              ".join(lines))
    return out


def print_case(name: str, depth: int, result: dict[str, Any]) -> None:
    """One line per filter: round-trip p95 (the target), the ORM's, the plan verdict."""
    p95 = {key: value["p95_ms"] for key, value in result.items()
           if isinstance(value, dict) and "p95_ms" in value}
    line = (f"  {name:24s} server p95 page1 {p95['page1']:6.2f} ms  deep({depth:>6} in) "
            f"{p95['deep']:6.2f} ms | app p95 {p95['page1_app']:6.2f} / {p95['deep_app']:6.2f} ms  "
            f"index {'yes' if result['index_used'] else 'NO'}")
    if "page1_pg_exec" in p95:
        line += f" | pg exec p95 {p95['page1_pg_exec']:.2f} / {p95['deep_pg_exec']:.2f} ms"
    print(line)


def raw_timing(conn: Any, statement: str, parameters: Any, repeats: int) -> dict[str, float]:
    """Server-side: the SQL as the app sends it, executed and fetched on the driver's cursor."""
    cur = conn.connection.driver_connection.cursor()
    samples = []
    for _ in range(repeats):
        began = time.perf_counter()
        cur.execute(statement, parameters)
        cur.fetchall()
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    return {"p50_ms": round(statistics.median(samples), 3),
            "p95_ms": round(samples[max(0, int(len(samples) * 0.95) - 1)], 3)}


def pg_execution_timing(conn: Any, statement: str, parameters: Any,
                        repeats: int) -> dict[str, float]:
    """PostgreSQL only: the server's own "Execution Time" (EXPLAIN ANALYZE, TIMING OFF).

    Leaves out the client, the socket and the time the bench process waits for a CPU, so it
    moves less with other load on a shared machine than the round trip above.
    """
    cur = conn.connection.driver_connection.cursor()
    samples = []
    for _ in range(repeats):
        cur.execute("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + statement, parameters)
        samples.append(float(cur.fetchone()[0][0]["Execution Time"]))
    samples.sort()
    return {"p50_ms": round(statistics.median(samples), 3),
            "p95_ms": round(samples[max(0, int(len(samples) * 0.95) - 1)], 3)}


def timing(session: Any, make: Any, repeats: int) -> dict[str, float]:
    samples = []
    for _ in range(repeats):
        stmt = make()
        began = time.perf_counter()
        session.execute(stmt).all()
        samples.append((time.perf_counter() - began) * 1000)
        session.expunge_all()
    samples.sort()
    return {"p50_ms": round(statistics.median(samples), 3),
            "p95_ms": round(samples[max(0, int(len(samples) * 0.95) - 1)], 3)}


def bench(url: str, tmp: Path, repeats: int, recent_basis: bool = False) -> dict[str, Any]:
    app = make_app(url, tmp)
    staff = people()
    supervisor_excludes = staff[0][0]  # as if the supervisor were also a practitioner in team 1
    print("  scope: supervisor of team 1")
    team = measure(app, 1, supervisor_excludes, repeats, recent_basis)
    print("  scope: DPO (all teams)")
    everyone = measure(app, None, None, repeats, recent_basis)
    return {"supervisor_team": team, "dpo_all": everyone}


def sqlite_run(rows: int, repeats: int, tmp: Path) -> dict[str, Any]:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"review-{rows}.sqlite3"
    if not path.exists():
        building = path.with_suffix(".building")
        building.unlink(missing_ok=True)
        began = time.perf_counter()
        migrate(f"sqlite:///{building}", tmp)
        fill_sqlite(building, rows)
        building.rename(path)
        print(f"built {path} in {time.perf_counter() - began:.0f} s")
    else:
        bring_to_head(path, tmp)
    return bench(f"sqlite:///{path}", tmp, repeats)


def bring_to_head(path: Path, tmp: Path) -> None:
    """Run newer migrations (index changes) on a cached data set, then ANALYZE it again.

    The cache is keyed by row count only (bench/run_all.py shares it), so a file built before a
    migration would otherwise be measured with yesterday's indexes.
    """
    import sqlite3

    def version() -> str:
        with sqlite3.connect(path) as db:
            return str(db.execute("SELECT version_num FROM alembic_version").fetchone()[0])

    before = version()
    migrate(f"sqlite:///{path}", tmp)
    if version() != before:
        db = sqlite3.connect(path)
        db.execute("ANALYZE")
        db.execute("PRAGMA optimize")
        db.commit()
        db.close()
        print(f"migrated {path} from {before} to {version()} and analysed it again")


def postgres_run(admin_url: str, rows: int, repeats: int, tmp: Path,
                 recent_basis: bool = False) -> dict[str, Any]:
    from tests.fixtures_db import postgres_database

    with postgres_database(admin_url=admin_url, prefix="da_bench_review") as (name, url):
        began = time.perf_counter()
        migrate(url, tmp)
        fill_postgres(url, rows)
        if recent_basis:
            add_recent_basis(url, rows // 5)
        print(f"built PostgreSQL {name} in {time.perf_counter() - began:.0f} s")
        return bench(url, tmp, repeats, recent_basis)


def summarise(results: dict[str, Any]) -> dict[str, Any]:
    worst = 0.0
    failures = []
    for backend, scopes in results.items():
        for scope, cases in scopes.items():
            for name, case in cases.items():
                worst = max(worst, case["page1"]["p95_ms"], case["deep"]["p95_ms"])
                if not case["index_used"]:
                    failures.append(f"{backend}/{scope}/{name}: no index search")
                if max(case["page1"]["p95_ms"], case["deep"]["p95_ms"]) > TARGET_MS:
                    failures.append(f"{backend}/{scope}/{name}: p95 above {TARGET_MS} ms")
    return {"worst_p95_ms": worst, "target_ms": TARGET_MS, "failures": failures}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=60)
    parser.add_argument("--pg", default=os.environ.get("DECISION_AID_TEST_DATABASE_URL"))
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--pg-recent-basis", action="store_true",
                        help="PostgreSQL: add rows/5 decisions of the last 30 days with a new "
                             "lawful basis, and a filter case for it (time-skewed data)")
    parser.add_argument("--out", type=Path, default=RESULTS,
                        help="where the JSON goes (default %(default)s)")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_sqlite:
            print(f"SQLite, {args.rows:,} decisions")
            results["sqlite"] = sqlite_run(args.rows, args.repeats, Path(tmp))
        if args.pg:
            print(f"PostgreSQL, {args.rows:,} decisions")
            results["postgresql"] = postgres_run(args.pg, args.rows, args.repeats, Path(tmp),
                                                 args.pg_recent_basis)
    summary = summarise(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": args.rows, "summary": summary, "results": results},
                                  indent=1, default=str) + "\n", encoding="utf-8")
    print(json.dumps(summary, indent=1))
    return 1 if summary["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
