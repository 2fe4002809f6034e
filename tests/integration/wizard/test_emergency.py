"""The emergency route: share now in at most four pages, flagged until the full record is completed."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from decision_aid.clock import FakeClock
from tests.helpers import csrf_token, text_of
from tests.integration.wizard.helpers import (
    CONFIRMATION_RE,
    answer_all,
    audit_events,
    draft_id_of,
    post_page,
    start_draft,
    stored_decisions,
    submit_decision,
)
from tests.integration.wizard.scenarios import SHARE_ALL, answers_for

WHAT = {"categories": ["concern", "contact_details"], "description": "Where the child is and what was said"}
WHO = {"recipient_org": "Northshire Police", "recipient_role": "999 call handler", "method": "phone"}


def share_now(client: FlaskClient) -> tuple[str, list[str]]:
    """First question to confirmation; returns the confirmation URL and the pages seen."""
    pages: list[str] = []
    url = answer_all(client, start_draft(client), {"immediate_risk": "yes"}, pages)
    pages.append(url)
    response = post_page(client, url, WHAT)
    assert response.status_code == 302, text_of(response)[:2000]
    pages.append(response.location)
    response = post_page(client, response.location, WHO)
    assert response.status_code == 302 and CONFIRMATION_RE.search(response.location)
    return str(response.location), pages


def test_emergency_route_then_full_record(signed_in: FlaskClient, app: Flask, fake_clock: FakeClock,
                                          sign_in_as: Any, practitioner: Any) -> None:
    confirmation, pages = share_now(signed_in)
    assert len(pages) <= 4, pages
    body = text_of(signed_in.get(confirmation))
    assert "Emergency sharing recorded" in body and "Complete the full record" in body
    [emergency] = stored_decisions(app)
    assert emergency.emergency and emergency.outcome == "share_now"
    assert emergency.recommendation == "share_urgently" and not emergency.departed_from_recommendation
    assert emergency.emergency_due_at == fake_clock.current + dt.timedelta(hours=24)
    assert emergency.sharing["shared_at"].startswith("2026-11-02T09:30")
    assert emergency.sharing["recipient_org"] == "Northshire Police"
    assert [t for t, _ in audit_events(app, emergency.reference)] == ["decision.emergency_recorded"]
    assert "Full record needed" in text_of(signed_in.get("/decisions"))

    fake_clock.advance(hours=3)
    sign_in_as(signed_in, practitioner)  # the session has timed out meanwhile
    page = signed_in.get(confirmation)
    started = signed_in.post(f"/decisions/{emergency.id}/complete-emergency",
                             data={"csrf_token": csrf_token(text_of(page))})
    assert started.status_code == 302
    end = answer_all(signed_in, started.location, answers_for("lawful_to_share"))
    assert end.endswith("/check-your-answers")
    response = submit_decision(signed_in, draft_id_of(end), SHARE_ALL)
    assert response.status_code == 302
    emergency_again, full = stored_decisions(app)
    assert full.completes_decision_id == emergency.id and not full.emergency
    assert emergency_again.sharing == emergency.sharing  # the emergency record stays as it was
    assert [t for t, _ in audit_events(app, full.reference)] == ["decision.emergency_completed"]
    assert "Full record needed" not in text_of(signed_in.get("/decisions"))
    assert "Complete the full record" not in text_of(signed_in.get(confirmation))


def test_emergency_flag_becomes_overdue_after_the_configured_period(
        signed_in: FlaskClient, app: Flask, fake_clock: FakeClock, org_settings: Any,
        sign_in_as: Any, practitioner: Any) -> None:
    org_settings(emergency_completion_hours=2)
    confirmation, _ = share_now(signed_in)
    [emergency] = stored_decisions(app)
    assert emergency.emergency_due_at == fake_clock.current + dt.timedelta(hours=2)
    fake_clock.advance(hours=2, minutes=1)
    sign_in_as(signed_in, practitioner)
    assert "Full record overdue" in text_of(signed_in.get("/decisions"))
    assert "The full record is overdue" in text_of(signed_in.get(confirmation))


def test_emergency_pages_need_what_and_whom(signed_in: FlaskClient) -> None:
    url = answer_all(signed_in, start_draft(signed_in), {"immediate_risk": "yes"})
    body = text_of(post_page(signed_in, url, {"categories": ["not-a-category"]}))
    assert "Select the information you are sharing" in body and "Describe what you are sharing" in body
    draft = draft_id_of(url)
    early = signed_in.get(f"/decisions/drafts/{draft}/emergency/who-and-how")
    assert early.status_code == 302 and early.location.endswith("/what-you-are-sharing")
    response = post_page(signed_in, url, WHAT)
    body = text_of(post_page(signed_in, response.location, {"method": "carrier-pigeon"}))
    assert "Enter the organisation you are sharing with" in body and "Select how you are sharing it" in body
    assert re.search(r"Error: Who are you sharing with", body)
