"""The submit writes its rows with Core statements (target T23): the same rows the ORM wrote.

`service._insert_decision` seals the Decision and inserts it and its review rows without the
unit of work, and `_locked_draft` reads the team and the case's live key with the draft. These
tests hold them to what adding the same Decision to the session stores.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Table, select

from decision_aid import crypto
from decision_aid.database import write_transaction
from decision_aid.extensions import db
from decision_aid.models import Team, User
from decision_aid.models.decision import Decision, Draft
from decision_aid.models.review import ReviewSelection, ReviewState
from decision_aid.review import sampling
from decision_aid.wizard import service
from tests.fixtures_decisions import BASE_FACTS
from tests.helpers import csrf_token, text_of
from tests.integration.wizard.helpers import (
    CONFIRMATION_RE,
    answer_all,
    draft_id_of,
    start_draft,
    stored_decisions,
)
from tests.integration.wizard.scenarios import answers_for

ORG_FACTS = {"org_type", "org_has_appropriate_policy_document", "org_is_designated_agency",
             "org_provides_services_for_relevant_person"}
SHARING = {"categories": [], "description": "", "recipient_org": "", "recipient_role": "",
           "method": None, "shared_at": None, "person_told": None, "not_told_reason": "",
           "advice_from": [], "reasons": "Not necessary."}
# Differ by construction between two decisions (or are random), so not compared column by column.
OWN_COLUMNS = {"id", "reference", "content_ciphertext", "draft_id", "submitted_at"}


def _row(table: Any, key_column: str, key: Any) -> dict[str, Any]:
    found = db.session.execute(select(table).where(table.c[key_column] == key)).mappings().one()
    return dict(found)


def _new_decision(user: User, case_ref: str) -> tuple[Decision, Draft]:
    answers = {k: v for k, v in BASE_FACTS.items() if k not in ORG_FACTS}
    draft = service.create_draft(user, case_ref, dt.date(2026, 11, 2), answers=answers)
    result = service.evaluate(draft)
    team = db.session.scalars(select(Team).order_by(Team.name)).first()
    decision = service._decision_row(draft, user, result, "do_not_share", dict(SHARING),
                                     team.id if team else None)
    return decision, draft


def test_core_insert_stores_the_rows_the_orm_stored(app: Flask, practitioner: User) -> None:
    with app.test_request_context():
        user = db.session.get(User, practitioner.id)
        assert user is not None
        by_orm, _ = _new_decision(user, "CASE-ROWS")
        by_core, _ = _new_decision(user, "CASE-ROWS")
        with write_transaction():
            db.session.add(by_orm)  # the flush hooks seal it and add its review rows
            db.session.flush()
        with write_transaction():
            service._insert_decision(by_core, None)
        db.session.expire_all()

        table = Decision.__table__
        assert isinstance(table, Table)
        orm_row, core_row = (_row(table, "id", d.id) for d in (by_orm, by_core))
        assert {k: v for k, v in orm_row.items() if k not in OWN_COLUMNS} == \
            {k: v for k, v in core_row.items() if k not in OWN_COLUMNS}
        assert core_row["submitted_at"] == by_core.submitted_at
        for row in (orm_row, core_row):
            content = crypto.decrypt_json(row["content_ciphertext"], table="decision",
                                          column="content_ciphertext", row_id=row["id"])
            assert content == {"answers": by_orm.answers, "result": by_orm.result,
                               "sharing": SHARING}

        for model in (ReviewSelection, ReviewState):
            table = model.__table__
            assert isinstance(table, Table)
            rows = [{k: v for k, v in _row(table, "decision_id", d.id).items()
                     if k not in {"decision_id", "selected_at", "submitted_at"}}
                    for d in (by_orm, by_core)]
            assert rows[0] == rows[1]
        assert sampling.selection_reason(by_core) == "departed"  # no random sample in this test


def test_a_submit_stores_the_first_team_by_name_and_seals_under_the_live_key(
        app: Flask, make_user: Any, sign_in_as: Any, client: FlaskClient,
        org_settings: Any) -> None:
    org_settings(mfa_required_for_practitioners=False, org_type="charity", apd_in_place=True)
    user = make_user(role="practitioner", teams=["North", "Alpha", "Middle"])
    sign_in_as(client, user)
    end = answer_all(client, start_draft(client, case_ref="CASE-54321"), answers_for("do_not_share"))
    draft_id = draft_id_of(end)
    with app.test_request_context():
        live_key = crypto.live_key_id("CASE-54321")
        alpha = db.session.scalars(select(Team.id).where(Team.name == "Alpha")).one()
    url = f"/decisions/drafts/{draft_id}/decision"
    token = csrf_token(text_of(client.get(url)))
    response = client.post(url, data={"outcome": "do_not_share", "reasons": "Not necessary.",
                                      "csrf_token": token})
    assert response.status_code == 302 and CONFIRMATION_RE.search(response.location)
    [stored] = stored_decisions(app)
    assert stored.team_id == alpha
    with app.app_context():
        blob = db.session.scalars(select(Decision.content_ciphertext)).one()
        assert crypto.blob_key_id(blob) == live_key
        assert db.session.get(Draft, uuid.UUID(draft_id)) is None


def test_a_draft_changed_after_the_request_read_it_is_submitted_as_it_is_now(
        signed_in: FlaskClient, app: Flask, practitioner: User) -> None:
    """The submit reuses the draft the request loaded only while the row is unchanged."""
    end = answer_all(signed_in, start_draft(signed_in), answers_for("do_not_share"))
    draft_id = uuid.UUID(draft_id_of(end))
    with app.test_request_context():
        user = db.session.get(User, practitioner.id)
        assert user is not None
        draft = service.find_draft(draft_id, user)
        assert draft is not None
        evaluated = service.evaluation(draft)
        before = dict(draft.answers)
        with app.app_context():  # another request's session changes the draft meanwhile
            other = db.session.get(Draft, draft_id)
            assert other is not None
            other.answers = {**other.answers, "trigger": _other_trigger(other.answers)}
            db.session.commit()
        service.submit(draft_id, user, "do_not_share", dict(SHARING), evaluated)
    [stored] = stored_decisions(app)
    assert stored.answers == {**before, "trigger": _other_trigger(before)}


def _other_trigger(answers: dict[str, Any]) -> str:
    return "proactive" if answers["trigger"] == "request_received" else "request_received"
