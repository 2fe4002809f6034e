"""Walk the wizard to each of the five recommendations and submit a decision.

Also checks what a submission stores: the immutable Decision with answers, facts, the engine's
output, rule-set version and digest, the team at that moment, and its audit event.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import text_of
from tests.integration.wizard.helpers import (
    CONFIRMATION_RE,
    answer_all,
    audit_events,
    draft_id_of,
    drafts,
    start_draft,
    stored_decisions,
    submit_decision,
)
from tests.integration.wizard.scenarios import SHARE_ALL, answers_for

DECISIONS = {
    "lawful_to_share": SHARE_ALL,
    "duty_to_share": SHARE_ALL,
    "do_not_share": {"outcome": "do_not_share", "reasons": "Not needed: the school already knows."},
    "seek_advice": {"outcome": "wait_for_advice", "advice_name": "Dana DPO",
                    "advice_role": "Data protection officer"},
}


@pytest.mark.parametrize("expected", sorted(DECISIONS))
def test_walk_to_recommendation_and_submit(signed_in: FlaskClient, app: Flask, expected: str) -> None:
    first = start_draft(signed_in)
    end = answer_all(signed_in, first, answers_for(expected))
    assert end.endswith("/check-your-answers")
    draft_id = draft_id_of(end)
    page = signed_in.get(f"/decisions/drafts/{draft_id}/recommendation")
    assert f'data-recommendation="{expected}"' in text_of(page)
    response = submit_decision(signed_in, draft_id, DECISIONS[expected])
    assert response.status_code == 302, text_of(response)[:3000]
    assert CONFIRMATION_RE.search(response.location)
    confirmation = text_of(signed_in.get(response.location))
    [decision] = stored_decisions(app)
    assert decision.reference in confirmation and decision.reference == "DA-2026-000001"
    assert decision.recommendation == expected
    assert decision.departed_from_recommendation is False
    assert [t for t, _ in audit_events(app, decision.reference)] == ["decision.submitted"]
    assert drafts(app) == []


def test_typical_case_stores_everything_needed_to_explain_it(signed_in: FlaskClient, app: Flask) -> None:
    """Charity, child at risk, special category data: at most 12 question pages, then a full record."""
    import rules

    pages: list[str] = []
    end = answer_all(signed_in, start_draft(signed_in), answers_for("lawful_to_share"), pages)
    assert len(pages) <= 12, pages
    submit_decision(signed_in, draft_id_of(end), SHARE_ALL)
    [decision] = stored_decisions(app)
    ruleset = app.extensions["ruleset"]
    again = rules.evaluate(decision.facts, decision.as_at, {"s16la_commencement": "2026-09-30"},
                           ruleset=ruleset)
    assert decision.result == again
    assert decision.ruleset_digest == ruleset.digest and decision.ruleset_version == ruleset.version
    assert decision.facts["org_type"] == "charity" and decision.answers["purpose"] == "protect_from_harm_or_neglect"
    assert "org_type" not in decision.answers
    assert decision.team_id is not None and decision.outcome == "share_all" and decision.shared
    assert decision.primary_lawful_basis == decision.result["lawful_bases"][0]
    assert decision.consent_position == "would_prejudice_protection"
    cats = {c["id"]: c for c in decision.sharing["categories"]}
    assert cats["health"]["special_category"] is True and cats["concern"]["special_category"] is False
    assert decision.sharing["advice_from"] == [{"name": "Sam Supervisor", "role": "Team manager"}]
    assert decision.sharing["shared_at"] == "2026-11-02"
    [(_, payload)] = audit_events(app, decision.reference)
    assert b"Northshire" not in payload and b"Summary of the concern" not in payload


def test_share_urgently_is_reached_by_the_first_question(signed_in: FlaskClient, app: Flask) -> None:
    first = start_draft(signed_in)
    assert first.endswith("/questions/immediate_risk")
    end = answer_all(signed_in, first, {"immediate_risk": "yes"})
    assert end.endswith("/emergency/what-you-are-sharing")


def test_departing_from_the_recommendation_needs_reasons(signed_in: FlaskClient, app: Flask) -> None:
    end = answer_all(signed_in, start_draft(signed_in), answers_for("do_not_share"))
    draft_id = draft_id_of(end)
    response = submit_decision(signed_in, draft_id, SHARE_ALL)
    assert response.status_code == 200
    assert "Enter your reasons for this decision" in text_of(response)
    response = submit_decision(signed_in, draft_id, {"outcome": "share_part", "person_told": "no"})
    body = text_of(response)
    for message in ("Select the information you are sharing", "Enter the organisation you are sharing with",
                    "Select how you are sharing it", "Enter the date of sharing",
                    "Enter why you have not told them", "Enter your reasons for this decision"):
        assert message in body
    response = submit_decision(signed_in, draft_id, {**SHARE_ALL, "reasons": "New information from the GP."})
    assert response.status_code == 302
    [decision] = stored_decisions(app)
    assert decision.departed_from_recommendation is True and decision.recommendation == "do_not_share"
