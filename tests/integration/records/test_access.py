"""Issue 6 part 4: only those allowed to see a decision can fetch any of its documents (the
same 404 as a missing id otherwise), and every view, print and download is one audit event."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from decision_aid.audit import access_events, event_details, events
from decision_aid.extensions import db
from decision_aid.models import User
from decision_aid.models.audit import AuditEvent
from tests.helpers import login_as

DOCUMENTS = ("record", "print-view", "record.pdf", "recipient-notice", "recipient-notice.pdf",
             "access-log")


MAIN = re.compile(r"<main\b.*?</main>", re.S)


def _main(body: bytes) -> str:
    """The page's main content: the layout around it carries a per-response CSP nonce and
    banners that are not about the record."""
    match = MAIN.search(body.decode())
    assert match, "no <main> element"
    return match.group(0)


def _access_count(app: Flask, reference: str) -> int:
    with app.app_context():
        return len(access_events(reference))


@pytest.mark.parametrize("who", ["other_practitioner", "other_supervisor", "admin"])
def test_outsiders_get_the_same_404_as_a_missing_id(app: Flask, client: FlaskClient,
                                                    make_decision: Any, author: User,
                                                    request: pytest.FixtureRequest,
                                                    who: str) -> None:
    decision = make_decision(author)
    login_as(client, request.getfixturevalue(who))
    for document in DOCUMENTS:
        refused = client.get(f"/decisions/{decision.id}/{document}")
        absent = client.get(f"/decisions/{uuid.uuid4()}/{document}")
        assert refused.status_code == absent.status_code == 404, document
        assert _main(refused.get_data()) == _main(absent.get_data()), document
        assert refused.headers.get("Content-Type") == absent.headers.get("Content-Type")
    assert _access_count(app, decision.reference) == 0


def test_refusals_are_recorded_as_denied_access(app: Flask, client: FlaskClient,
                                                make_decision: Any, author: User,
                                                other_practitioner: User) -> None:
    decision = make_decision(author)
    login_as(client, other_practitioner)
    client.get(f"/decisions/{decision.id}/record")
    with app.app_context():
        denied = [e for e in access_events(decision.reference, include_denied=True)
                  if e.event_type == events.RECORD_ACCESS_DENIED]
        assert len(denied) == 1 and denied[0].actor_id == str(other_practitioner.id)


@pytest.mark.parametrize("who", ["author", "team_supervisor", "dpo"])
def test_author_team_supervisor_and_dpo_may_read(client: FlaskClient, make_decision: Any,
                                                 author: User, request: pytest.FixtureRequest,
                                                 who: str) -> None:
    decision = make_decision(author)
    login_as(client, request.getfixturevalue(who))
    assert client.get(f"/decisions/{decision.id}/record").status_code == 200
    assert client.get(f"/decisions/{decision.id}/recipient-notice").status_code == 200


def test_supervisor_reads_decisions_of_the_team_stored_on_the_decision(
        client: FlaskClient, make_decision: Any, author: User, other_supervisor: User) -> None:
    """Membership as stored on the decision: a South decision by a North practitioner."""
    decision = make_decision(author, team="South")
    login_as(client, other_supervisor)
    assert client.get(f"/decisions/{decision.id}/record").status_code == 200


def test_signed_out_visitors_are_sent_to_sign_in(client: FlaskClient, make_decision: Any,
                                                 author: User) -> None:
    decision = make_decision(author)
    response = client.get(f"/decisions/{decision.id}/record")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


@pytest.mark.parametrize("who,status", [("author", 404), ("team_supervisor", 200),
                                        ("other_supervisor", 404), ("dpo", 200)])
def test_access_log_is_for_team_supervisors_and_the_dpo(client: FlaskClient, make_decision: Any,
                                                        author: User,
                                                        request: pytest.FixtureRequest,
                                                        who: str, status: int) -> None:
    decision = make_decision(author)
    login_as(client, request.getfixturevalue(who))
    assert client.get(f"/decisions/{decision.id}/access-log").status_code == status


def test_each_view_print_and_download_adds_exactly_one_access_event(
        app: Flask, client: FlaskClient, make_decision: Any, author: User,
        team_supervisor: User) -> None:
    decision = make_decision(author)
    login_as(client, author)
    expected = [("record", events.RECORD_VIEWED, "record"),
                ("print-view", events.RECORD_PRINTED, "record"),
                ("record.pdf", events.RECORD_PDF_DOWNLOADED, "record"),
                ("recipient-notice", events.RECORD_VIEWED, "recipient_notice")]
    for path, event_type, document in expected:
        before = _access_count(app, decision.reference)
        assert client.get(f"/decisions/{decision.id}/{path}").status_code == 200
        assert _access_count(app, decision.reference) == before + 1, path
        with app.app_context():
            event = access_events(decision.reference)[-1]
            details = event_details(event)
            assert event.event_type == event_type
            assert event.actor_id == str(author.id)
            assert details["data"] == {"document": document, "reason": "own_decision",
                                       "outcome": "allowed"}
    login_as(client, team_supervisor)
    page = client.get(f"/decisions/{decision.id}/access-log")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Downloaded a PDF" in text and "Opened the print view" in text


def test_pdf_rate_limit_answers_429_before_rendering(app: Flask, client: FlaskClient,
                                                     make_decision: Any, author: User) -> None:
    app.config["RECORDS_PDF_PER_MINUTE"] = 0
    decision = make_decision(author)
    login_as(client, author)
    assert client.get(f"/decisions/{decision.id}/record.pdf").status_code == 429
    assert _access_count(app, decision.reference) == 0


def test_a_get_adds_no_state_but_its_access_event(app: Flask, client: FlaskClient,
                                                  make_decision: Any, author: User) -> None:
    decision = make_decision(author)
    login_as(client, author)
    with app.app_context():
        before = db.session.query(AuditEvent).count()
    client.get(f"/decisions/{decision.id}/print-view")
    with app.app_context():
        assert db.session.query(AuditEvent).count() == before + 1
