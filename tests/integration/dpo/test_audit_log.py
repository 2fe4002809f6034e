"""The DPO's audit log search (/dpo/audit-log, T26): filters, keyset pages, bad input, access,
its own audit event, and the query plans (an index search for every filter)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select, text

from decision_aid import audit
from decision_aid.audit import events
from decision_aid.clock import FakeClock
from decision_aid.database import write_transaction
from decision_aid.dpo import audit_log
from decision_aid.dpo.audit_log import AuditFilters
from decision_aid.extensions import db
from decision_aid.models.audit import AuditEvent
from tests.conftest import START
from tests.helpers import login_as, text_of
from tests.integration.review.conftest import Cast

TYPES = (events.RECORD_VIEWED, events.RECORD_PRINTED, events.DECISION_SUBMITTED, events.SIGN_IN_SUCCEEDED)
CASES = ("CASE-A", "CASE-B", None)
SEEDED = 130  # three pages of 50 unfiltered
ROW_SEQ = re.compile(r'<tr class="govuk-table__row">\s*<td class="govuk-table__cell">(\d+)</td>')
OLDER = re.compile(r'href="([^"]*before=\d+[^"]*)"[^>]*rel="next"')


@dataclass(frozen=True)
class Seeded:
    """One seeded event as the filters see it."""

    seq: int
    actor_id: str | None
    case_ref: str | None
    event_type: str
    day: dt.date


@pytest.fixture
def seeded(app: Flask, cast: Cast, fake_clock: FakeClock) -> list[Seeded]:
    """130 events through the real record_event over three days: four actors (one the system),
    two cases and none, four event types, mixed so that every combination occurs."""
    actors = (cast.author, cast.colleague, cast.supervisor, None)
    out = []
    with app.app_context():
        for i in range(SEEDED):
            fake_clock.current = START - dt.timedelta(days=2 - i // 45, minutes=-i)
            actor, case_ref, event_type = actors[i % 4], CASES[i % 3], TYPES[(i // 2) % 4]
            with write_transaction():
                row = audit.record_event(event_type, actor=actor, case_ref=case_ref, data={"i": i})
            out.append(Seeded(row.seq, None if actor is None else str(actor.id), case_ref, event_type,
                              fake_clock.current.date()))
        fake_clock.current = START
    return out


def matching(seeded: list[Seeded], f: AuditFilters) -> list[int]:
    """What a filter must return, newest first, computed from the seeded list."""
    def keep(s: Seeded) -> bool:
        actor = None if f.actor_id == audit_log.SYSTEM_ACTOR else f.actor_id
        return ((f.actor_id is None or s.actor_id == actor)
                and (f.case_ref is None or s.case_ref == f.case_ref)
                and (f.event_type is None or s.event_type == f.event_type)
                and (f.date_from is None or s.day >= f.date_from)
                and (f.date_to is None or s.day <= f.date_to))
    return sorted((s.seq for s in seeded if keep(s)), reverse=True)


def walk(f: AuditFilters) -> Iterator[list[int]]:
    """Every page of a search, following the keyset."""
    before = None
    while True:
        page = audit_log.search(db.session, f, before)
        yield [e.seq for e in page.events]
        if page.older_before is None:
            return
        before = page.older_before


def filter_cases(cast: Cast) -> dict[str, AuditFilters]:
    day1, day2 = (START - dt.timedelta(days=2)).date(), (START - dt.timedelta(days=1)).date()
    author = str(cast.author.id)
    return {
        "none": AuditFilters(),
        "actor": AuditFilters(actor_id=author),
        "system": AuditFilters(actor_id=audit_log.SYSTEM_ACTOR),
        "case": AuditFilters(case_ref="CASE-A"),
        "type": AuditFilters(event_type=events.RECORD_VIEWED),
        "from": AuditFilters(date_from=day2),
        "to": AuditFilters(date_to=day1),
        "one_day": AuditFilters(date_from=day2, date_to=day2),
        "actor_type": AuditFilters(actor_id=author, event_type=events.DECISION_SUBMITTED),
        "case_type_dates": AuditFilters(case_ref="CASE-B", event_type=events.RECORD_PRINTED,
                                        date_from=day1, date_to=day2),
        "all": AuditFilters(actor_id=str(cast.colleague.id), case_ref="CASE-A", event_type=events.RECORD_VIEWED,
                            date_from=day1, date_to=START.date()),
        "empty_range": AuditFilters(date_from=START.date() + dt.timedelta(days=1)),
    }


@pytest.mark.parametrize("name", ["none", "actor", "system", "case", "type", "from", "to", "one_day",
                                  "actor_type", "case_type_dates", "all", "empty_range"])
def test_each_filter_alone_and_combined_returns_exactly_the_matching_events(
        app: Flask, cast: Cast, seeded: list[Seeded], name: str) -> None:
    f = filter_cases(cast)[name]
    with app.app_context():
        pages = list(walk(f))
    found = [seq for page in pages for seq in page]
    assert found == matching(seeded, f)  # newest first, nothing missing, nothing extra
    assert all(len(page) == audit_log.PAGE_SIZE for page in pages[:-1])
    assert len(set(found)) == len(found)


def test_the_combined_filters_are_not_vacuous(cast: Cast, seeded: list[Seeded]) -> None:
    """Guards the test above: each non-empty case matches some events and fewer than all."""
    for name, f in filter_cases(cast).items():
        if name not in ("none", "empty_range"):
            assert 0 < len(matching(seeded, f)) < SEEDED, name


def seqs_on(html: str) -> list[int]:
    return [int(s) for s in ROW_SEQ.findall(html)]


def test_page_walks_every_event_newest_first_with_no_gaps(client: FlaskClient, cast: Cast,
                                                         seeded: list[Seeded]) -> None:
    login_as(client, cast.dpo)
    response = client.get("/dpo/audit-log")
    assert response.status_code == 200
    html = text_of(response)
    collected, pages = seqs_on(html), 1
    while (link := OLDER.search(html)) is not None:
        html = text_of(client.get(link.group(1).replace("&amp;", "&")))
        collected += seqs_on(html)
        pages += 1
    head = collected[0]  # the first search's own event (later searches are newer than the key)
    assert head > seeded[-1].seq
    assert collected == list(range(head, 0, -1))
    assert pages == -(-head // audit_log.PAGE_SIZE)
    assert "Older events" not in html and "Back to the newest events" in html


def test_form_filters_reach_the_query(client: FlaskClient, cast: Cast, seeded: list[Seeded]) -> None:
    login_as(client, cast.dpo)
    html = text_of(client.get("/dpo/audit-log", query_string={
        "actor": str(cast.author.id), "event_type": events.RECORD_VIEWED}))
    expected = matching(seeded, AuditFilters(actor_id=str(cast.author.id), event_type=events.RECORD_VIEWED))
    assert seqs_on(html) == expected and expected
    assert '<td class="govuk-table__cell">Record viewed</td>' in html
    assert '<td class="govuk-table__cell">Test Practitioner</td>' in html  # the actor's name, not their id
    system = text_of(client.get("/dpo/audit-log", query_string={"actor": audit_log.SYSTEM_ACTOR}))
    assert seqs_on(system) == matching(seeded, AuditFilters(actor_id=audit_log.SYSTEM_ACTOR))
    assert system.count('<td class="govuk-table__cell">The system</td>') == len(seqs_on(system))
    by_email = text_of(client.get("/dpo/audit-log", query_string={"actor_email": cast.author.email.upper()}))
    assert seqs_on(by_email) == matching(seeded, AuditFilters(actor_id=str(cast.author.id)))


def test_case_filter_is_normalised_and_shows_the_search_itself(app: Flask, client: FlaskClient, cast: Cast,
                                                               seeded: list[Seeded]) -> None:
    login_as(client, cast.dpo)
    html = text_of(client.get("/dpo/audit-log", query_string={"case_ref": " case-a "}))
    seqs = seqs_on(html)
    with app.app_context():
        searched = db.session.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))
        assert searched is not None and searched.event_type == events.AUDIT_LOG_SEARCHED
        own_seq, code = searched.seq, audit.verification_code(searched)
    assert seqs[0] == own_seq  # the search is an event about the case, recorded before the query
    assert seqs[1:] == matching(seeded, AuditFilters(case_ref="CASE-A"))[:audit_log.PAGE_SIZE - 1]
    assert code in html and 'value="case-a"' not in html and "CASE-A" in html


def test_a_search_is_audited_with_the_filter_names_only(app: Flask, client: FlaskClient, cast: Cast,
                                                        seeded: list[Seeded]) -> None:
    login_as(client, cast.dpo)
    response = client.get("/dpo/audit-log", query_string={
        "actor_email": cast.author.email, "event_type": events.RECORD_PRINTED,
        "date_from": "2026-10-31", "date_to": "2026-11-02"})
    assert response.status_code == 200
    with app.app_context():
        row = db.session.scalar(select(AuditEvent).where(AuditEvent.event_type == events.AUDIT_LOG_SEARCHED))
        assert row is not None
        details = audit.event_details(row)
        assert row.actor_id == str(cast.dpo.id) and row.case_ref is None
        assert details["data"] == {"filters": ["actor_id", "event_type", "date_from", "date_to"], "page": "first"}
        for value in (cast.author.email, str(cast.author.id), "2026-10-31", events.RECORD_PRINTED):
            assert value.encode() not in row.payload


BAD_INPUT = {
    # a select cannot show a value that is not one of its options: the other fields are kept
    "unknown event type": ({"event_type": "record.shredded", "case_ref": "CASE-KEPT"},
                           "Select an event from the list", 'value="CASE-KEPT"'),
    "malformed date": ({"date_from": "2026-02-30"}, "From must be a real date", "2026-02-30"),
    "not a date": ({"date_to": "last tuesday"}, "To must be a real date", "last tuesday"),
    "from after to": ({"date_from": "2026-11-02", "date_to": "2026-11-01"}, "To must be the same as or after from",
                      "2026-11-02"),
    "before zero": ({"before": "0", "case_ref": "CASE-KEPT"}, "The page link is not valid", 'value="CASE-KEPT"'),
    "before negative": ({"before": "-3", "actor_email": "x@example.org"}, "The page link is not valid",
                        'value="x@example.org"'),
    "before not a number": ({"before": "abc", "event_type": events.RECORD_VIEWED}, "The page link is not valid",
                            f'value="{events.RECORD_VIEWED}" selected'),
    "unknown staff id": ({"actor": "not-a-user", "date_from": "2026-11-01"}, "Select a staff member from the list",
                         'value="2026-11-01"'),
    "unknown e-mail": ({"actor_email": "nobody@example.org"}, "No staff member has that e-mail address",
                       "nobody@example.org"),
    "case reference too long": ({"case_ref": "C" * 65}, "64 characters or fewer", "C" * 65),
}


@pytest.mark.parametrize("name", list(BAD_INPUT))
def test_bad_input_gives_an_error_summary_and_keeps_what_was_entered(
        app: Flask, client: FlaskClient, cast: Cast, name: str) -> None:
    query, message, kept = BAD_INPUT[name]
    login_as(client, cast.dpo)
    response = client.get("/dpo/audit-log", query_string=query)
    html = text_of(response)
    assert response.status_code == 200  # as the other GET filter forms (review queue, subject access)
    assert "govuk-error-summary" in html and "There is a problem" in html and message in html
    assert "<title>Error:" in html
    assert kept in html
    assert "govuk-table__body" not in html  # no results shown for a search that did not run
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(
            AuditEvent.event_type == events.AUDIT_LOG_SEARCHED)) is None


@pytest.mark.parametrize("role", ["practitioner", "supervisor", "admin"])
def test_other_roles_get_404(client: FlaskClient, make_user: Any, role: str) -> None:
    login_as(client, make_user(role=role, teams=["North"]))
    assert client.get("/dpo/audit-log").status_code == 404


def test_signed_out_is_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/dpo/audit-log")
    assert response.status_code == 302 and "sign-in" in response.headers["Location"]


def test_overview_links_to_the_audit_log(client: FlaskClient, cast: Cast) -> None:
    login_as(client, cast.dpo)
    assert 'href="/dpo/audit-log"' in text_of(client.get("/dpo"))


def test_decision_reference_links_to_the_record(client: FlaskClient, cast: Cast, corpus: dict[str, Any]) -> None:
    login_as(client, cast.dpo)
    decision = corpus["lawful"]
    html = text_of(client.get("/dpo/audit-log", query_string={"case_ref": decision.case_ref}))
    assert f'href="/decisions/{decision.id}/record">{decision.reference}</a>' in html


# --- query plans -------------------------------------------------------------------------------

BULK_ROWS = 5_000


def bulk_fill(rows: int) -> None:
    """Many events generated by the database itself, for the planner to have a table worth
    indexing (the hashes are unique placeholders: these tests never verify the chain)."""
    conn = db.session.connection()
    start = db.session.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1)) or 0
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(
            "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < ?) "
            "INSERT INTO audit_event (seq, payload, prev_hash, entry_hash) SELECT ? + x, "
            "CAST(json_object('actor_id', printf('actor-%d', x % 40), 'case_ref', printf('CASE-%d', x % 500), "
            "'decision_ref', NULL, 'event_type', printf('type.t%d', x % 30), 'occurred_at', "
            "strftime('%Y-%m-%dT%H:%M:%S', '2026-06-01', '+' || (x * 60) || ' seconds') || '.000000Z', "
            "'with', hex(randomblob(40))) AS BLOB), printf('p%063d', ? + x), printf('e%063d', ? + x) "
            "FROM s", (rows, start, start, start))
        conn.exec_driver_sql("ANALYZE")
    else:
        conn.exec_driver_sql(
            "INSERT INTO audit_event (seq, occurred_at, actor_id, event_type, case_ref, decision_ref, payload, "
            "prev_hash, entry_hash) SELECT %(s)s + x, timestamptz '2026-06-01 00:00+00' + make_interval(mins => x), "
            "'actor-' || mod(x, 40), 'type.t' || mod(x, 30), 'CASE-' || mod(x, 500), NULL, "
            "convert_to(repeat(md5(x::text), 3), 'UTF8'), 'p' || lpad((%(s)s + x)::text, 63, '0'), "
            "'e' || lpad((%(s)s + x)::text, 63, '0') FROM generate_series(1, %(n)s) AS x", {"s": start, "n": rows})
        conn.exec_driver_sql("ANALYZE audit_event")
    db.session.commit()


def captured_plans(f: AuditFilters, before: int | None) -> list[list[str]]:
    """Run the search, then EXPLAIN every SELECT it sent, with the same parameters."""
    sent: list[tuple[str, Any]] = []

    def hook(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", hook)
    try:
        audit_log.search(db.session, f, before)
    finally:
        event.remove(db.engine, "before_cursor_execute", hook)
    cursor = db.session.connection().connection.driver_connection.cursor()
    plans = []
    for statement, parameters in sent:
        sqlite = db.engine.dialect.name == "sqlite"
        cursor.execute(("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ") + statement, parameters)
        plans.append([str(row[-1] if sqlite else row[0]) for row in cursor.fetchall()])
    return plans


PLAN_CASES = {
    "actor": AuditFilters(actor_id="actor-7"),
    "system": AuditFilters(actor_id=audit_log.SYSTEM_ACTOR),
    "case": AuditFilters(case_ref="CASE-42"),
    "type": AuditFilters(event_type="type.t3"),
    "dates": AuditFilters(date_from=dt.date(2026, 6, 2), date_to=dt.date(2026, 6, 3)),
    "from": AuditFilters(date_from=dt.date(2026, 6, 2)),
    "actor_type": AuditFilters(actor_id="actor-7", event_type="type.t3"),
    "actor_dates": AuditFilters(actor_id="actor-7", date_from=dt.date(2026, 6, 2), date_to=dt.date(2026, 6, 3)),
    "case_type": AuditFilters(case_ref="CASE-42", event_type="type.t12"),
}


@pytest.mark.parametrize("name", list(PLAN_CASES))
def test_every_filter_is_an_index_search(app: Flask, name: str) -> None:
    with app.app_context():
        bulk_fill(BULK_ROWS)
        for before in (None, BULK_ROWS // 2):
            plans = captured_plans(PLAN_CASES[name], before)
            assert plans, "the search sent no SELECT"
            for plan in plans:
                text_plan = "\n".join(plan)
                if db.engine.dialect.name == "sqlite":
                    assert all(line.startswith("SEARCH audit_event") for line in plan), text_plan
                    assert "TEMP B-TREE" not in text_plan, text_plan  # rows come in page order
                else:
                    assert "Seq Scan" not in text_plan and "Index" in text_plan, text_plan


def test_the_unfiltered_older_pages_search_by_seq(app: Flask) -> None:
    with app.app_context():
        bulk_fill(BULK_ROWS)
        (plan,) = captured_plans(AuditFilters(), BULK_ROWS // 2)
        text_plan = "\n".join(plan)
        if db.engine.dialect.name == "sqlite":
            assert plan == ["SEARCH audit_event USING INTEGER PRIMARY KEY (rowid<?)"], text_plan
        else:
            assert "Index Scan Backward using pk_audit_event" in text_plan, text_plan


def test_search_event_type_is_known() -> None:
    assert events.AUDIT_LOG_SEARCHED in events.ALL_EVENTS
    assert json.dumps(events.AUDIT_LOG_SEARCHED) == '"audit_log.searched"'


def test_postgresql_plans_each_page_with_its_values(app: Flask) -> None:
    """psycopg prepares a statement after 5 runs and the server may then reuse a plan made
    without the values, which for these pages read the wrong index (see plan_with_values)."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("PostgreSQL only: SQLite plans every statement with its values")
        audit_log.search(db.session, AuditFilters(event_type=events.RECORD_VIEWED))
        assert db.session.execute(text("SHOW plan_cache_mode")).scalar() == "force_custom_plan"
        db.session.commit()  # SET LOCAL: the connection goes back to the pool as it was
        assert db.session.execute(text("SHOW plan_cache_mode")).scalar() == "auto"
