"""T34: decision content is encrypted at rest, bound to its row, and readable through the model."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text

from decision_aid import crypto
from decision_aid.extensions import db
from decision_aid.models.decision import Decision, Draft
from decision_aid.models.operations import CaseKey
from tests.integration.operations.helpers import sentinel_sharing, sqlite_files_contain


def test_content_is_ciphertext_in_the_database_and_plain_through_the_model(
        app: Flask, make_decision: Any, practitioner: Any, database_url: str) -> None:
    sharing, sentinels = sentinel_sharing("ENC")
    decision = make_decision(practitioner, case_ref="CASE-70001", sharing=sharing)
    with app.app_context():
        row = db.session.execute(text(
            "SELECT answers, result, sharing, content_ciphertext FROM decision WHERE reference = :r"),
            {"r": decision.reference}).one()
        assert all("sealed" in str(value) for value in row[:3])
        assert crypto.blob_key_id(bytes(row[3]))
        stored = db.session.scalars(select(Decision).where(Decision.id == decision.id)).one()
        assert stored.sharing["reasons"] == sharing["reasons"]
        assert stored.result["recommendation"] == stored.recommendation
        assert stored.answers and "disposed" not in stored.answers
        db.session.remove()
    if database_url.startswith("sqlite"):
        assert not sqlite_files_contain(database_url, sentinels)


def test_one_live_key_per_case_and_wrapped_only(app: Flask, make_decision: Any, practitioner: Any) -> None:
    make_decision(practitioner, case_ref="CASE-70002")
    make_decision(practitioner, case_ref="CASE-70002")
    make_decision(practitioner, case_ref="CASE-70003")
    with app.app_context():
        keys = db.session.scalars(select(CaseKey).order_by(CaseKey.case_ref)).all()
        assert [k.case_ref for k in keys] == ["CASE-70002", "CASE-70003"]
        kek = crypto.load_kek()
        assert all(k.kek_id == kek.kek_id and len(k.wrapped_key or b"") == 12 + 32 + 16 for k in keys)


def test_a_ciphertext_copied_to_another_row_does_not_decrypt(
        app: Flask, make_decision: Any, practitioner: Any) -> None:
    first = make_decision(practitioner, case_ref="CASE-70004")
    second = make_decision(practitioner, case_ref="CASE-70004")
    with app.app_context():
        blob = db.session.scalar(select(Decision.content_ciphertext).where(Decision.id == first.id))
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt_json(blob, table="decision", column="content_ciphertext", row_id=second.id)
        tampered = bytearray(blob)
        tampered[-1] ^= 1
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt_json(bytes(tampered), table="decision", column="content_ciphertext",
                                row_id=first.id)


def test_decisions_stay_insert_only(app: Flask, make_decision: Any, practitioner: Any) -> None:
    decision = make_decision(practitioner)
    with app.app_context():
        stored = db.session.get(Decision, decision.id)
        stored.sharing = {"reasons": "changed"}
        with pytest.raises(Exception, match="cannot be changed"):
            db.session.flush()
        db.session.rollback()


def test_drafts_are_encrypted_and_keep_in_place_edits(app: Flask, practitioner: Any) -> None:
    from decision_aid import clock

    with app.app_context():
        now = clock.now()
        draft = Draft(practitioner_id=practitioner.id, case_ref="CASE-70005", as_at=now.date(),
                      answers={"immediate_risk": False}, sharing={}, created_at=now, updated_at=now)
        db.session.add(draft)
        db.session.commit()
        draft_id = draft.id
        draft.sharing = {**draft.sharing, "reasons": "DRAFT-SENTINEL-1"}
        db.session.commit()
        db.session.remove()
        raw = db.session.execute(text("SELECT sharing, content_ciphertext FROM draft")).one()
        assert "DRAFT-SENTINEL-1" not in str(raw[0]) and b"DRAFT-SENTINEL-1" not in bytes(raw[1])
        again = db.session.get(Draft, draft_id)
        assert again.sharing == {"reasons": "DRAFT-SENTINEL-1"}
        assert again.answers == {"immediate_risk": False}


def test_no_key_material_in_the_database_or_repository(app: Flask, make_decision: Any,
                                                       practitioner: Any, database_url: str) -> None:
    make_decision(practitioner, case_ref="CASE-70006")
    with app.app_context():
        kek = crypto.load_kek()
        kek_path = Path(crypto.kek_location())
        key_id = db.session.scalar(select(CaseKey.id))
        data_key = crypto.data_key(uuid.UUID(str(key_id)))
    repo = Path(__file__).resolve().parents[3]
    assert repo not in kek_path.parents and Path(database_url.split("///")[-1]).parent not in kek_path.parents
    if database_url.startswith("sqlite"):
        assert not sqlite_files_contain(database_url, [kek.key, data_key], raw=True)


def test_production_without_a_kek_names_the_variable(app: Flask) -> None:
    app.config.update(DEPLOYMENT="production", KEK=None, KEK_FILE=None)
    with app.app_context(), pytest.raises(crypto.KekConfigError, match="DECISION_AID_KEK_FILE"):
        crypto.load_kek()
