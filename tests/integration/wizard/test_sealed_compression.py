"""A submit seals the decision as a version 2 blob (compressed, then encrypted; target T23),
compressed before the write lock, and what is stored reads back exactly as submitted. Content
sealed as version 1 before compression existed stays readable and submittable."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from decision_aid import crypto
from decision_aid.database import IN_WRITE_TRANSACTION
from decision_aid.extensions import db
from decision_aid.models import User
from decision_aid.models.decision import Decision, Draft
from decision_aid.wizard import service
from tests.helpers import csrf_token, text_of
from tests.integration.wizard.helpers import (
    CONFIRMATION_RE,
    answer_all,
    draft_id_of,
    start_draft,
    stored_decisions,
)
from tests.integration.wizard.scenarios import answers_for


def _submit(client: FlaskClient, draft_id: str) -> None:
    url = f"/decisions/drafts/{draft_id}/decision"
    token = csrf_token(text_of(client.get(url)))
    response = client.post(url, data={"outcome": "do_not_share", "reasons": "Not necessary.",
                                      "csrf_token": token})
    assert response.status_code == 302 and CONFIRMATION_RE.search(response.location)


def _draft_as_read(app: Flask, draft_id: str, practitioner: User) -> tuple[dict[str, Any], Any]:
    """The draft's answers and its full evaluation, as the submit will find them."""
    with app.test_request_context():
        user = db.session.get(User, practitioner.id)
        assert user is not None
        draft = service.find_draft(uuid.UUID(draft_id), user)
        assert draft is not None
        return dict(draft.answers), service.evaluate(draft)


def test_a_submitted_decision_is_version_2_compressed_once_and_reads_back_unchanged(
        signed_in: FlaskClient, app: Flask, practitioner: User,
        monkeypatch: pytest.MonkeyPatch) -> None:
    draft_id = draft_id_of(answer_all(signed_in, start_draft(signed_in), answers_for("do_not_share")))
    answers, result = _draft_as_read(app, draft_id, practitioner)
    compressed: list[tuple[bytes, bool]] = []  # (plaintext, under the write lock)
    real = crypto._deflate

    def spy(data: bytes) -> bytes:
        compressed.append((data, bool(db.session().info.get(IN_WRITE_TRANSACTION))))
        return real(data)

    monkeypatch.setattr(crypto, "_deflate", spy)

    _submit(signed_in, draft_id)

    [stored] = stored_decisions(app)
    assert stored.answers == answers and stored.result == result
    assert stored.sharing["reasons"] == "Not necessary."
    with app.app_context():
        blob = db.session.scalars(select(Decision.content_ciphertext)).one()
        assert blob[:1] == crypto.VERSION_DEFLATE
        plaintext = crypto._json_bytes(crypto.decrypt_json(
            blob, table="decision", column="content_ciphertext", row_id=stored.id))
    assert plaintext == crypto._json_bytes(
        {"answers": answers, "result": result, "sharing": stored.sharing})
    assert len(blob) < len(plaintext) / 3
    # Compressed once, before the write lock; sealing under the lock reused it.
    assert [locked for data, locked in compressed if data == plaintext] == [False]


def test_a_draft_sealed_as_version_1_still_reads_and_submits(
        signed_in: FlaskClient, app: Flask, practitioner: User) -> None:
    draft_id = draft_id_of(answer_all(signed_in, start_draft(signed_in), answers_for("do_not_share")))
    with app.app_context():  # seal it again the way every draft was sealed before version 2
        draft = db.session.get(Draft, uuid.UUID(draft_id))
        assert draft is not None
        content, case_ref = draft.sealed_content(), draft.case_ref
        old = crypto.encrypt_json(content, case_ref=case_ref, table="draft",
                                  column="content_ciphertext", row_id=draft.id, compress=False)
        db.session.execute(update(Draft).where(Draft.id == draft.id).values(content_ciphertext=old))
        db.session.commit()
    with app.app_context():
        draft = db.session.get(Draft, uuid.UUID(draft_id))
        assert draft is not None and draft.content_ciphertext[:1] == crypto.VERSION_PLAIN
        assert draft.sealed_content() == content
    answers, result = _draft_as_read(app, draft_id, practitioner)
    assert answers == content["answers"]

    _submit(signed_in, draft_id)

    [stored] = stored_decisions(app)
    assert stored.answers == answers and stored.result == result
