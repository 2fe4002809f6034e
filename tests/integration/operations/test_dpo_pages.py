"""Rule governance, subject access export and complaints, through the DPO's pages."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from decision_aid.extensions import db
from decision_aid.models import AuditEvent
from decision_aid.models.operations import Complaint, RuleSetSignOff
from decision_aid.operations import governance
from tests.helpers import login_as, submit, text_of
from tests.integration.operations.helpers import sentinel_sharing


def _events(app: Flask, event_type: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.event_type == event_type)))


def test_only_the_dpo_sees_operations(client: FlaskClient, make_user: Any) -> None:
    for role in ("practitioner", "supervisor", "admin"):
        login_as(client, make_user(role))
        assert client.get("/dpo/operations/rules").status_code == 404
        assert client.get("/dpo/operations/subject-access/export.json?case_ref=CASE-1").status_code == 404


def test_rules_page_lists_unverified_rules_and_sign_off_approves(
        app: Flask, dpo_client: FlaskClient, make_decision: Any, practitioner: Any,
        fake_clock: Any) -> None:
    before = make_decision(practitioner, case_ref="CASE-90001")
    page = text_of(dpo_client.get("/dpo/operations/rules"))
    with app.app_context():
        unverified = governance.unverified_rules()
        in_use = governance.ruleset_in_use()
    assert unverified and all(f'data-unverified-rule="{r.id}"' in page for r in unverified)
    assert in_use.version in page and "Not approved" in page
    assert 'data-banner="rules-unapproved"' in page

    fake_clock.advance(minutes=5)
    response = submit(dpo_client, "/dpo/operations/rules", {"notes": "Checked with legal"})
    assert response.status_code == 302
    after = make_decision(practitioner, case_ref="CASE-90001")
    with app.app_context():
        row = db.session.scalars(select(RuleSetSignOff)).one()
        assert (row.ruleset_version, row.ruleset_digest) == (in_use.version, in_use.digest)
        assert governance.ruleset_approved()
        assert governance.made_under_unapproved_rules(before)
        assert not governance.made_under_unapproved_rules(after)
    assert len(_events(app, "ruleset.signed_off")) == 1
    assert 'data-banner="rules-unapproved"' not in text_of(dpo_client.get("/dpo/operations/rules"))
    record = text_of(dpo_client.get(f"/decisions/{before.id}/record"))
    assert 'data-banner="rules-unapproved"' in record
    assert 'data-banner="rules-unapproved"' not in text_of(dpo_client.get(f"/decisions/{after.id}/record"))


def test_approval_once_seen_is_not_queried_again(app: Flask, dpo_client: FlaskClient) -> None:
    """Sign-offs are never withdrawn, so pages stop asking once the rule set is approved."""
    from sqlalchemy import event

    with app.app_context():
        assert not governance.ruleset_approved()
    submit(dpo_client, "/dpo/operations/rules", {"notes": "Checked with legal"})
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    with app.app_context():
        assert governance.ruleset_approved()  # first sight: asks the database
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert governance.ruleset_approved()
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
    assert not [s for s in statements if "ruleset_sign_off" in s]


def test_wizard_pages_warn_while_rules_are_unapproved(client: FlaskClient, practitioner: Any) -> None:
    login_as(client, practitioner)
    assert 'data-banner="rules-unapproved"' in text_of(client.get("/decisions/new"))


def test_apd_review_overdue_warns_admin_and_dpo(app: Flask, client: FlaskClient, make_user: Any,
                                                fake_clock: Any) -> None:
    from decision_aid.models import Organisation

    with app.app_context():
        org = db.session.scalars(select(Organisation)).one()
        org.apd_review_date = fake_clock.current.date() - dt.timedelta(days=1)
        db.session.commit()
    login_as(client, make_user("admin"))
    assert 'data-banner="apd-overdue"' in text_of(client.get("/admin/users"))
    login_as(client, make_user("practitioner"))
    assert 'data-banner="apd-overdue"' not in text_of(client.get("/"))


def test_subject_access_finds_every_decision_and_flags_third_parties(
        app: Flask, dpo_client: FlaskClient, make_decision: Any, practitioner: Any) -> None:
    sharing, sentinels = sentinel_sharing("SAR")
    first = make_decision(practitioner, case_ref="CASE-90002", sharing=sharing)
    second = make_decision(practitioner, case_ref="CASE-90002", recommendation="do_not_share")
    make_decision(practitioner, case_ref="CASE-90003")
    page = text_of(dpo_client.get("/dpo/operations/subject-access?case_ref=case-90002"))
    assert first.reference in page and second.reference in page and "2 decisions" in page

    response = dpo_client.get("/dpo/operations/subject-access/export.json?case_ref=CASE-90002")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    export = json.loads(response.data)
    assert [d["reference"] for d in export["decisions"]] == [first.reference, second.reference]
    shared = export["decisions"][0]["sharing"]
    assert shared["advice_from"]["redact_review"] is True
    assert shared["recipient_role"]["redact_review"] is True
    assert shared["reasons"]["value"] == sharing["reasons"]
    assert export["decisions"][0]["practitioner"]["redact_review"] is True
    assert all(s in response.get_data(as_text=True) for s in sentinels)
    events = _events(app, "subject_access.exported")
    assert [(e.case_ref, e.actor_id is not None) for e in events] == [("CASE-90002", True)]


def test_subject_access_pdf(dpo_client: FlaskClient, make_decision: Any, practitioner: Any) -> None:
    make_decision(practitioner, case_ref="CASE-90004")
    response = dpo_client.get("/dpo/operations/subject-access/export.pdf?case_ref=CASE-90004")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")


@pytest.mark.parametrize(("received", "due"), [
    (["19", "6", "2026"], dt.date(2026, 7, 19)),
    (["18", "6", "2026"], None),
])
def test_complaint_logged_with_s164a_acknowledgement_date(
        app: Flask, dpo_client: FlaskClient, make_decision: Any, practitioner: Any,
        received: list[str], due: dt.date | None) -> None:
    decision = make_decision(practitioner, case_ref="CASE-90005")
    url = f"/dpo/operations/decisions/{decision.id}/complaints/new"
    response = submit(dpo_client, url, {"received_on": received, "summary": "Says it was shared too widely"})
    assert response.status_code == 302, text_of(response)[:3000]
    with app.app_context():
        row = db.session.scalars(select(Complaint)).one()
        assert row.acknowledgement_due == due and row.case_ref == "CASE-90005"
        assert b"shared too widely" not in row.summary_ciphertext
    listing = text_of(dpo_client.get("/dpo/operations/complaints"))
    assert decision.reference in listing and "Says it was shared too widely" in listing
    [event] = _events(app, "complaint.logged")
    assert event.decision_ref == decision.reference


def test_complaint_needs_a_date_and_a_short_summary(dpo_client: FlaskClient, make_decision: Any,
                                                    practitioner: Any) -> None:
    decision = make_decision(practitioner)
    url = f"/dpo/operations/decisions/{decision.id}/complaints/new"
    response = submit(dpo_client, url, {"summary": "x" * 1001})
    body = text_of(response)
    assert response.status_code == 200
    assert "Enter the date the complaint was received" in body and "1000 characters or fewer" in body
