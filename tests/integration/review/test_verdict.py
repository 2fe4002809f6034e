"""The verdict flow: reasons rules, Review row and audit event, what the practitioner sees, and who
may review (never their own, never another team's; the DPO reads but records nothing)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from decision_aid.audit import events
from decision_aid.extensions import db
from decision_aid.models.audit import AuditEvent
from decision_aid.models.decision import Decision
from decision_aid.models.review import Review, ReviewState
from tests.helpers import csrf_token, login_as, submit, text_of
from tests.integration.review.conftest import Cast


def url(decision: Decision) -> str:
    return f"/review/decisions/{decision.id}"


def reviews_of(app: Flask, decision: Decision) -> list[Review]:
    with app.app_context():
        return list(db.session.scalars(select(Review).where(Review.decision_id == decision.id)))


def review_events(app: Flask, decision: Decision) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(
            AuditEvent.decision_ref == decision.reference, AuditEvent.event_type == events.REVIEW_RECORDED)))


def test_agree_without_reasons_records_review_and_event(app: Flask, client: FlaskClient, cast: Cast,
                                                        make_decision: Any) -> None:
    decision = make_decision(cast.author)
    login_as(client, cast.supervisor)
    response = submit(client, url(decision), {"verdict": "agree", "reasons": ""})
    assert response.status_code == 302
    with app.app_context():  # reasons are sealed: reading them needs the case key
        [review] = db.session.scalars(select(Review).where(Review.decision_id == decision.id)).all()
        assert (review.verdict, review.reviewer_id) == ("agree", cast.supervisor.id)
        assert review.reasons == ""
        review_id = review.id
    [event] = review_events(app, decision)
    data = json.loads(event.payload)["with"]["data"]
    assert data == {"review_id": str(review_id), "decision_id": str(decision.id), "verdict": "agree"}
    with app.app_context():
        state = db.session.get(ReviewState, decision.id)
        assert state is not None and (state.review_status, state.latest_verdict) == ("reviewed", "agree")
    queue_html = text_of(client.get("/review"))
    assert decision.reference not in queue_html.split("<h1", 1)[1]


def test_disagree_needs_reasons(app: Flask, client: FlaskClient, cast: Cast, make_decision: Any) -> None:
    decision = make_decision(cast.author)
    login_as(client, cast.supervisor)
    response = submit(client, url(decision), {"verdict": "disagree", "reasons": "  "})
    assert response.status_code == 200
    assert "Enter why you disagree" in text_of(response)
    response = submit(client, url(decision), {"verdict": "agree_with_conditions"})
    assert "Enter the conditions" in text_of(response)
    assert reviews_of(app, decision) == []
    assert review_events(app, decision) == []


def test_reasons_are_capped_and_verdict_must_be_known(app: Flask, client: FlaskClient, cast: Cast,
                                                      make_decision: Any) -> None:
    decision = make_decision(cast.author)
    login_as(client, cast.supervisor)
    too_long = submit(client, url(decision), {"verdict": "disagree", "reasons": "x" * 2001})
    assert "Reasons must be 2,000 characters or fewer" in text_of(too_long)
    unknown = submit(client, url(decision), {"verdict": "maybe", "reasons": "because"})
    assert unknown.status_code == 200
    assert reviews_of(app, decision) == []


def test_practitioner_sees_verdict_and_reasons_on_their_record(app: Flask, client: FlaskClient, cast: Cast,
                                                               make_decision: Any) -> None:
    decision = make_decision(cast.author)
    reasons = "The recipient needed only the dates of the injuries, not the whole health summary."
    login_as(client, cast.supervisor)
    submit(client, url(decision), {"verdict": "agree_with_conditions", "reasons": reasons})
    [event] = review_events(app, decision)
    assert b"injuries" not in event.payload  # reasons never reach the permanent chain
    author = app.test_client()
    login_as(author, cast.author)
    html = text_of(author.get(f"/decisions/{decision.id}/record"))
    assert "Agree with conditions" in html
    assert reasons in html


def test_cannot_review_own_decision(app: Flask, client: FlaskClient, cast: Cast, make_decision: Any) -> None:
    own = make_decision(cast.supervisor)
    login_as(client, cast.supervisor)
    assert client.get(url(own)).status_code == 404
    assert client.post(url(own), data={"verdict": "agree"}).status_code in (400, 404)
    assert reviews_of(app, own) == []


def test_supervisor_of_another_team_gets_404_like_a_missing_decision(
        app: Flask, client: FlaskClient, cast: Cast, make_decision: Any) -> None:
    decision = make_decision(cast.author)
    login_as(client, cast.other_supervisor)
    foreign = client.get(url(decision))
    missing = client.get(f"/review/decisions/{uuid.uuid4()}")
    assert foreign.status_code == missing.status_code == 404
    assert len(foreign.data) == len(missing.data)
    assert client.get(f"{url(decision)}/replay").status_code == 404
    token = csrf_token(text_of(client.get("/review")))
    refused = client.post(url(decision), data={"verdict": "agree", "csrf_token": token})
    assert refused.status_code == 404
    assert reviews_of(app, decision) == []


def test_practitioners_and_admins_cannot_open_the_review_page(client: FlaskClient, cast: Cast,
                                                             make_decision: Any, make_user: Any) -> None:
    decision = make_decision(cast.author)
    for user in (cast.author, cast.colleague, make_user("admin")):
        login_as(client, user)
        assert client.get(url(decision)).status_code == 404


def test_dpo_reads_any_decision_but_records_no_verdict(app: Flask, client: FlaskClient, cast: Cast,
                                                       make_decision: Any, make_user: Any) -> None:
    loner = make_user("practitioner")
    decisions = [make_decision(cast.author), make_decision(cast.outsider), make_decision(loner, team=None)]
    login_as(client, cast.dpo)
    for decision in decisions:
        page = client.get(url(decision))
        assert page.status_code == 200
        html = text_of(page)
        assert decision.reference in html and 'name="verdict"' not in html
    token = csrf_token(text_of(client.get("/dpo/export")))
    response = client.post(url(decisions[0]), data={"verdict": "agree", "csrf_token": token})
    assert response.status_code == 404
    assert all(reviews_of(app, d) == [] for d in decisions)


def test_review_page_shows_timeline_and_logs_the_view(app: Flask, client: FlaskClient, cast: Cast,
                                                      make_decision: Any) -> None:
    decision = make_decision(cast.author)
    login_as(client, cast.supervisor)
    html = text_of(client.get(url(decision)))
    assert "app-timeline" in html and "Decision submitted" in html
    with app.app_context():
        viewed = db.session.scalars(select(AuditEvent).where(
            AuditEvent.decision_ref == decision.reference, AuditEvent.event_type == events.RECORD_VIEWED)).all()
    assert len(viewed) == 1
