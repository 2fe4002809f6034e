"""Helpers for wizard tests: walk the questions, submit decisions, read what was stored."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from decision_aid.extensions import db
from decision_aid.models import AuditEvent
from decision_aid.models.decision import Decision, Draft
from tests.helpers import csrf_token, text_of

QUESTION_RE = re.compile(r"/decisions/drafts/([0-9a-f-]{36})/questions/([a-z_]+)$")
DRAFT_RE = re.compile(r"/decisions/drafts/([0-9a-f-]{36})")
CONFIRMATION_RE = re.compile(r"/decisions/([0-9a-f-]{36})/confirmation$")


def post_page(client: FlaskClient, url: str, data: dict[str, Any]) -> TestResponse:
    """GET a page, then POST data with its CSRF token (as a browser would)."""
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code, page.location)
    return client.post(url, data={**data, "csrf_token": csrf_token(text_of(page))})


def start_draft(client: FlaskClient, case_ref: str = "CASE-12345",
                date: tuple[str, str, str] = ("2", "11", "2026")) -> str:
    """Create a draft through the form; return the first question's URL."""
    response = post_page(client, "/decisions/new", {"case_ref": case_ref, "as_at": list(date)})
    assert response.status_code == 302, text_of(response)
    return str(response.location)


def draft_id_of(url: str) -> str:
    """The draft id in a wizard URL."""
    match = DRAFT_RE.search(url)
    assert match, url
    return match.group(1)


def facts_on_page(html: str) -> list[str]:
    """The fact ids a question page asks (radio group names), in page order."""
    return list(dict.fromkeys(re.findall(r'name="([a-z_]+)" type="radio"', html)))


def answer_all(client: FlaskClient, first_url: str, answers: dict[str, str],
               pages: list[str] | None = None) -> str:
    """Answer question pages until the next step is not a question page; return its URL.

    A page asking a fact missing from `answers` fails the test, so each scenario states
    exactly what it answers. `pages` collects the question ids shown.
    """
    url = first_url
    while (match := QUESTION_RE.search(url)) is not None:
        page = client.get(url)
        assert page.status_code == 200, (url, page.status_code, page.location)
        facts = facts_on_page(text_of(page))
        missing = [f for f in facts if f not in answers]
        assert not missing, f"question {match.group(2)} asks {missing}"
        if pages is not None:
            pages.append(match.group(2))
        data = {f: answers[f] for f in facts}
        response = client.post(url, data={**data, "csrf_token": csrf_token(text_of(page))})
        assert response.status_code == 302, (url, text_of(response)[:3000])
        url = str(response.location)
    return url


def submit_decision(client: FlaskClient, draft_id: str, data: dict[str, Any]) -> TestResponse:
    """Post the practitioner's decision for a draft."""
    return post_page(client, f"/decisions/drafts/{draft_id}/decision", data)


DECISION_FIELDS = (
    "id", "reference", "case_ref", "practitioner_id", "team_id", "as_at", "submitted_at", "emergency",
    "emergency_due_at", "completes_decision_id", "reconsiders_decision_id", "answers", "facts", "result",
    "ruleset_version", "ruleset_digest", "recommendation", "primary_lawful_basis", "outcome",
    "departed_from_recommendation", "shared", "consent_position", "sharing", "draft_id",
)
DRAFT_FIELDS = ("id", "practitioner_id", "case_ref", "as_at", "answers", "emergency", "sharing",
                "reconsiders_decision_id", "completes_decision_id", "updated_at")


def _snapshot(row: Any, fields: tuple[str, ...]) -> SimpleNamespace:
    """Read every field inside the app context (content columns may be decrypted on access)."""
    return SimpleNamespace(**{name: getattr(row, name) for name in fields})


def stored_decisions(app: Flask) -> list[SimpleNamespace]:
    """Every stored decision, oldest first, as plain snapshots for assertions."""
    with app.app_context():
        rows = db.session.scalars(select(Decision).order_by(Decision.submitted_at, Decision.reference))
        return [_snapshot(row, DECISION_FIELDS) for row in rows]


def drafts(app: Flask) -> list[SimpleNamespace]:
    """Every draft, as plain snapshots."""
    with app.app_context():
        return [_snapshot(row, DRAFT_FIELDS) for row in db.session.scalars(select(Draft))]


def audit_events(app: Flask, decision_ref: str) -> list[tuple[str, bytes]]:
    """(event type, payload) of the audit events naming a decision."""
    with app.app_context():
        rows = db.session.execute(select(AuditEvent.event_type, AuditEvent.payload).where(
            AuditEvent.decision_ref == decision_ref)).all()
        return [(str(r[0]), bytes(r[1])) for r in rows]
