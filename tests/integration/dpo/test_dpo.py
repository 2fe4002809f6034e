"""DPO: audit overview, exports (contents, audit event, re-authentication), dashboard access."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from decision_aid.audit import events
from decision_aid.clock import FakeClock
from decision_aid.extensions import db
from decision_aid.models.audit import AuditEvent
from decision_aid.models.decision import Decision
from tests.helpers import csrf_token, login_as, text_of
from tests.integration.review.conftest import Cast

EXPORTS = ("decisions.csv", "decisions.json", "audit-events.csv", "audit-events.json")


def stepped_up(client: FlaskClient) -> None:
    """As if the DPO had just re-entered their password and code (account.reauthenticate)."""
    from decision_aid.auth.stepup import REAUTHENTICATED_AT

    now = client.application.extensions["clock"]()
    with client.session_transaction() as session:
        session[REAUTHENTICATED_AT] = now.isoformat()


def export(client: FlaskClient, name: str, **dates: str) -> Any:
    token = csrf_token(text_of(client.get("/dpo/export")))
    return client.post(f"/dpo/export/{name}", data={"csrf_token": token, **dates})


def exported_events(app: Flask) -> list[dict[str, Any]]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.event_type == events.DATA_EXPORTED))
        return [json.loads(row.payload)["with"]["data"] for row in rows]


def test_decisions_csv_has_header_and_every_decision(app: Flask, client: FlaskClient, cast: Cast,
                                                     corpus: dict[str, Decision]) -> None:
    login_as(client, cast.dpo)
    stepped_up(client)
    response = export(client, "decisions.csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="decisions.csv"'
    rows = list(csv.DictReader(io.StringIO(text_of(response))))
    assert {r["reference"] for r in rows} == {d.reference for d in corpus.values()}
    first = next(r for r in rows if r["reference"] == corpus["departed"].reference)
    assert first["outcome"] == "do_not_share" and first["departed_from_recommendation"] == "true"
    assert first["review_status"] == "awaiting" and first["shared"] == "false"
    assert "reasons" not in first and "sharing" not in first
    assert exported_events(app) == [{"dataset": "decisions", "format": "csv", "from": None, "to": None}]


def test_decisions_json_parses_and_honours_the_date_range(client: FlaskClient, cast: Cast,
                                                          corpus: dict[str, Decision]) -> None:
    login_as(client, cast.dpo)
    stepped_up(client)
    response = export(client, "decisions.json", date_from="2026-09-01", date_to="2026-10-01")
    document = json.loads(text_of(response))
    assert document["kind"] == "decisions"
    assert [item["reference"] for item in document["items"]] == [corpus["old"].reference]
    assert document["items"][0]["lawful_bases"] == corpus["old"].result["lawful_bases"]


def test_audit_events_export(app: Flask, client: FlaskClient, cast: Cast, corpus: dict[str, Decision]) -> None:
    login_as(client, cast.dpo)
    stepped_up(client)
    as_csv = list(csv.DictReader(io.StringIO(text_of(export(client, "audit-events.csv")))))
    with app.app_context():
        total = db.session.scalar(select(func.count()).select_from(AuditEvent))
    assert len(as_csv) == total  # the export's own event is committed first, so it is the last row
    assert as_csv[-1]["event_type"] == events.DATA_EXPORTED
    assert list(as_csv[0]) == ["seq", "occurred_at", "event_type", "actor_id", "actor_role", "case_ref",
                               "decision_ref", "data", "prev_hash", "entry_hash"]
    assert {r["decision_ref"] for r in as_csv if r["event_type"] == events.DECISION_SUBMITTED} >= {
        corpus["lawful"].reference}
    as_json = json.loads(text_of(export(client, "audit-events.json")))
    seqs = [item["seq"] for item in as_json["items"]]
    assert seqs == sorted(seqs) and as_json["items"][-1]["data"]["dataset"] == "audit-events"
    assert [e["dataset"] for e in exported_events(app)] == ["audit-events", "audit-events"]


def test_export_needs_a_recent_reauthentication(app: Flask, client: FlaskClient, cast: Cast,
                                                fake_clock: FakeClock) -> None:
    login_as(client, cast.dpo)
    for name in EXPORTS:  # signed in, never stepped up
        response = export(client, name)
        assert response.status_code == 302 and "/account/reauthenticate" in response.headers["Location"]
    stepped_up(client)
    fake_clock.advance(minutes=6)
    for name in EXPORTS:  # stepped up too long ago
        response = export(client, name)
        assert "Content-Disposition" not in response.headers and response.status_code == 302
    assert exported_events(app) == []
    stepped_up(client)
    assert export(client, "decisions.csv").status_code == 200


def test_exports_are_post_only_and_dpo_only(client: FlaskClient, cast: Cast) -> None:
    login_as(client, cast.dpo)
    assert client.get("/dpo/export/decisions.csv").status_code == 405
    for user in (cast.supervisor, cast.author):
        login_as(client, user)
        assert export(client, "decisions.csv").status_code == 404


def test_overview_shows_chain_status(client: FlaskClient, cast: Cast, corpus: dict[str, Decision]) -> None:
    login_as(client, cast.dpo)
    html = text_of(client.get("/dpo"))
    assert "Verified" in html and "Latest signed checkpoint" in html


def test_dashboard_for_dpo_and_supervisor(client: FlaskClient, cast: Cast, corpus: dict[str, Decision]) -> None:
    for user, total in ((cast.dpo, len(corpus)), (cast.supervisor, len(corpus) - 1)):
        login_as(client, user)
        response = client.get("/review/dashboard")
        html = text_of(response)
        assert response.status_code == 200
        assert html.count('role="img"') == 7 and html.count("<desc") == 7
        assert f">{total}</span> decisions" in html
        assert "style=" not in html.split("<main", 1)[1]
        assert "<script" not in html.split("<main", 1)[1].split("</main>")[0]
    login_as(client, cast.author)
    assert client.get("/review/dashboard").status_code == 404
