"""Bad input and odd navigation: never a 500, never a second decision, never someone else's data."""

from __future__ import annotations

import re
import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import csrf_token, text_of
from tests.integration.wizard.helpers import (
    answer_all,
    draft_id_of,
    drafts,
    post_page,
    start_draft,
    stored_decisions,
    submit_decision,
)
from tests.integration.wizard.scenarios import SHARE_ALL, answers_for


def test_changing_an_answer_drops_dependent_answers_and_asks_what_now_applies(
        signed_in: FlaskClient, app: Flask) -> None:
    answers = {**answers_for("duty_to_share")}
    end = answer_all(signed_in, start_draft(signed_in), answers)
    draft_id = draft_id_of(end)
    assert "request_basis" in drafts(app)[0].answers
    base = f"/decisions/drafts/{draft_id}/questions"
    response = post_page(signed_in, f"{base}/trigger", {"trigger": "proactive"})
    assert response.location.endswith("/check-your-answers")
    assert "request_basis" not in drafts(app)[0].answers
    response = post_page(signed_in, f"{base}/protected_person_age", {"protected_person_age": "adult"})
    assert response.location.endswith(f"{base}/adult_at_risk")
    assert signed_in.get(f"/decisions/drafts/{draft_id}/recommendation").location.endswith("/adult_at_risk")
    end = answer_all(signed_in, response.location, answers)
    assert end.endswith("/check-your-answers")
    assert "Change" in text_of(signed_in.get(end))


def test_resume_a_draft_from_your_decisions(signed_in: FlaskClient, app: Flask) -> None:
    first = start_draft(signed_in, case_ref="CASE-777")
    post_page(signed_in, first, {"immediate_risk": "no"})
    listing = text_of(signed_in.get("/decisions"))
    assert "CASE-777" in listing
    resume = signed_in.get(f"/decisions/drafts/{draft_id_of(first)}")
    assert resume.location.endswith("/questions/trigger")
    assert drafts(app)[0].answers == {"immediate_risk": False}
    assert "immediate_risk" not in str(signed_in.get_cookie("session") or "")


def test_jumping_ahead_goes_to_the_first_unanswered_question(signed_in: FlaskClient) -> None:
    first = start_draft(signed_in)
    draft_id = draft_id_of(first)
    for page in ("questions/purpose", "check-your-answers", "recommendation", "decision",
                 "emergency/who-and-how"):
        response = signed_in.get(f"/decisions/drafts/{draft_id}/{page}")
        assert response.status_code == 302 and response.location.endswith("/questions/immediate_risk"), page
    assert signed_in.get(f"/decisions/drafts/{draft_id}/questions/not_a_question").status_code == 404


def test_a_tampered_option_is_a_form_error(signed_in: FlaskClient, app: Flask) -> None:
    first = start_draft(signed_in)
    for value in ("maybe", "", "yes<script>", "1", "True"):
        response = post_page(signed_in, first, {"immediate_risk": value})
        assert response.status_code == 200
        body = text_of(response)
        assert "Select yes or no" in body and "There is a problem" in body
        assert "<script>" not in body.split("</head>")[1].replace("<script type", "")
    assert drafts(app)[0].answers == {}


def test_a_double_submit_stores_one_decision(signed_in: FlaskClient, app: Flask) -> None:
    end = answer_all(signed_in, start_draft(signed_in), answers_for("do_not_share"))
    draft_id = draft_id_of(end)
    url = f"/decisions/drafts/{draft_id}/decision"
    token = csrf_token(text_of(signed_in.get(url)))
    data = {"outcome": "do_not_share", "reasons": "Not necessary.", "csrf_token": token}
    first, second = signed_in.post(url, data=data), signed_in.post(url, data=data)
    assert first.status_code == second.status_code == 302
    assert first.location == second.location
    assert len(stored_decisions(app)) == 1


def test_another_users_draft_or_decision_is_the_same_404_as_a_missing_one(
        signed_in: FlaskClient, app: Flask, make_user: Any, sign_in_as: Any) -> None:
    end = answer_all(signed_in, start_draft(signed_in), answers_for("do_not_share"))
    draft_id = draft_id_of(end)
    submit_decision(signed_in, draft_id, {"outcome": "do_not_share", "reasons": "Not necessary."})
    mine = start_draft(signed_in)
    [decision] = stored_decisions(app)
    other = app.test_client()
    sign_in_as(other, make_user(role="practitioner", teams=["South"]))
    missing = uuid.uuid4()
    pages = [f"/decisions/drafts/{draft_id_of(mine)}/questions/immediate_risk",
             f"/decisions/drafts/{draft_id_of(mine)}/check-your-answers",
             f"/decisions/{decision.id}/confirmation"]
    for page in pages:
        theirs = other.get(page)
        absent = other.get(page.replace(draft_id_of(mine), str(missing)).replace(str(decision.id), str(missing)))
        assert theirs.status_code == absent.status_code == 404
        assert _without_nonce(text_of(theirs)) == _without_nonce(text_of(absent))
    token = csrf_token(text_of(other.get("/decisions")))
    assert other.post(f"/decisions/{decision.id}/reconsider", data={"csrf_token": token}).status_code == 404


def _without_nonce(html: str) -> str:
    """Per-response values (CSP nonce, CSRF token) aside, the pages must be identical."""
    return re.sub(r'(nonce|value|data-csrf-token)="[^"]*"', "", html)


CASE_REFS = [
    ("Jane Smith", "must not contain a name"),
    ("943 476 5919", "must not contain an NHS number"),
    ("CASE-01/02/2015", "must not contain a date"),
    ("SW1A 1AA", "must not contain a postcode"),
    ("", "Enter a case reference"),
    ("case 12345!", "Enter a case reference in the correct format"),
]
DATES = [
    (["3", "11", "2026"], "must be today or in the past"),
    (["31", "2", "2026"], "must be a real date"),
    (["", "", ""], "Enter the date of the decision"),
    (["1", "", "2026"], "must include a month"),
    (["1", "11"], "must be a real date"),
    (["1", "11", "2026", "4"], "must be a real date"),
    ([], "Enter the date of the decision"),
]


def test_case_references_that_identify_people_and_bad_dates_are_refused(signed_in: FlaskClient,
                                                                         app: Flask) -> None:
    """One signed-in client for every case (each refused with its GOV.UK message, no draft made)."""
    for case_ref, message in CASE_REFS:
        response = post_page(signed_in, "/decisions/new", {"case_ref": case_ref, "as_at": ["2", "11", "2026"]})
        assert response.status_code == 200 and message in text_of(response), case_ref
    for as_at, message in DATES:
        response = post_page(signed_in, "/decisions/new", {"case_ref": "CASE-12345", "as_at": as_at})
        assert response.status_code == 200 and message in text_of(response), as_at
    assert drafts(app) == []
    body = text_of(signed_in.get("/decisions/new"))
    assert re.search(r'id="as_at-day"[^>]*value="02"|value="02"[^>]*id="as_at-day"', body)


def test_reconsidering_starts_a_linked_decision_and_keeps_the_old_one(signed_in: FlaskClient, app: Flask) -> None:
    end = answer_all(signed_in, start_draft(signed_in), answers_for("do_not_share"))
    submit_decision(signed_in, draft_id_of(end), {"outcome": "do_not_share", "reasons": "Not necessary."})
    [old] = stored_decisions(app)
    token = csrf_token(text_of(signed_in.get("/decisions")))
    started = signed_in.post(f"/decisions/{old.id}/reconsider", data={"csrf_token": token})
    assert started.location.endswith("/check-your-answers")
    draft_id = draft_id_of(started.location)
    base = f"/decisions/drafts/{draft_id}/questions"
    post_page(signed_in, f"{base}/necessity", {"sharing_necessary": "yes", "recipient_role_in_safeguarding": "yes",
                                               "recipient_is_competent_authority": "no"})
    end = answer_all(signed_in, signed_in.get(f"/decisions/drafts/{draft_id}").location,
                     answers_for("lawful_to_share"))
    submit_decision(signed_in, draft_id_of(end), SHARE_ALL)
    old_again, new = stored_decisions(app)
    assert new.reconsiders_decision_id == old.id and new.recommendation == "lawful_to_share"
    assert old_again.outcome == old.outcome == "do_not_share"
