"""Submitting under concurrency: the write lock only for the write, one decision per draft, waits
for other writers instead of failing, and one rule evaluation per submit."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from werkzeug.test import TestResponse

import rules
from decision_aid.audit.chain import ADVISORY_LOCK_KEY
from decision_aid.extensions import db
from decision_aid.models import Organisation, User
from decision_aid.wizard import service
from tests.helpers import csrf_token, text_of
from tests.integration.wizard.helpers import (
    CONFIRMATION_RE,
    answer_all,
    draft_id_of,
    drafts,
    start_draft,
    stored_decisions,
)
from tests.integration.wizard.scenarios import answers_for

DO_NOT_SHARE = {"outcome": "do_not_share", "reasons": "Not necessary."}
WAIT = 30  # seconds: only a bound so that a broken test fails instead of hanging


def _complete_draft(client: FlaskClient) -> tuple[str, str]:
    """A draft with every question answered; its decision URL and a CSRF token for it."""
    end = answer_all(client, start_draft(client), answers_for("do_not_share"))
    url = f"/decisions/drafts/{draft_id_of(end)}/decision"
    return url, csrf_token(text_of(client.get(url)))


@contextmanager
def _begins(app: Flask) -> Iterator[list[str]]:
    """Every BEGIN statement the app's engine issues inside the block."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("BEGIN"):
            seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _sqlite_only(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("BEGIN IMMEDIATE is SQLite's write lock")


def test_a_submit_holds_the_write_lock_only_for_its_write_transaction(
        signed_in: FlaskClient, app: Flask, database_url: str) -> None:
    _sqlite_only(database_url)
    url, token = _complete_draft(signed_in)
    with _begins(app) as begins:
        response = signed_in.post(url, data={**DO_NOT_SHARE, "csrf_token": token})
    assert response.status_code == 302 and CONFIRMATION_RE.search(response.location)
    assert begins[0] == "BEGIN"  # session, user, draft and rule evaluation: no lock
    assert begins.count("BEGIN IMMEDIATE") == 1  # the insert and the audit append


def test_other_wizard_posts_still_lock_from_their_first_statement(
        signed_in: FlaskClient, app: Flask, database_url: str) -> None:
    _sqlite_only(database_url)
    first = start_draft(signed_in)
    token = csrf_token(text_of(signed_in.get(first)))
    with _begins(app) as begins:
        response = signed_in.post(first, data={"immediate_risk": "no", "csrf_token": token})
    assert response.status_code == 302
    assert begins and set(begins) == {"BEGIN IMMEDIATE"}


def test_a_valid_submit_evaluates_the_rules_once(signed_in: FlaskClient, app: Flask,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    url, token = _complete_draft(signed_in)
    calls: list[bool] = []
    real = rules.evaluate

    def counting(*args: Any, **kwargs: Any) -> dict[str, Any]:
        calls.append(bool(kwargs.get("with_would_change", True)))
        return real(*args, **kwargs)

    monkeypatch.setattr(rules, "evaluate", counting)
    response = signed_in.post(url, data={**DO_NOT_SHARE, "csrf_token": token})
    assert CONFIRMATION_RE.search(response.location)
    assert calls == [True]
    [decision] = stored_decisions(app)
    with app.app_context():
        settings = db.session.scalars(db.select(Organisation)).one().engine_settings()
    full = real(decision.facts, decision.as_at, settings, ruleset=app.extensions["ruleset"])
    assert full["would_change"] and decision.result["would_change"] == full["would_change"]


def test_an_evaluation_made_before_the_answers_changed_is_not_reused(
        signed_in: FlaskClient, app: Flask, practitioner: User) -> None:
    url, _ = _complete_draft(signed_in)
    with app.test_request_context():
        user = db.session.get(User, practitioner.id)
        assert user is not None
        draft = service.find_draft(uuid.UUID(draft_id_of(url)), user)
        assert draft is not None
        real = service.evaluation(draft)
        stale = service.Evaluation(({**real.inputs[0], "trigger": "request"}, *real.inputs[1:]),
                                   {**real.result, "recommendation": "lawful_to_share"}, True)
        service.submit(draft.id, user, "do_not_share", {"reasons": "Not necessary."}, stale)
    [decision] = stored_decisions(app)
    assert decision.recommendation == real.result["recommendation"] != "lawful_to_share"


def _gate_write_transactions(monkeypatch: pytest.MonkeyPatch, parties: int) -> threading.Barrier:
    """Hold each submit at the door of its write transaction until all have read the draft."""
    barrier = threading.Barrier(parties, timeout=WAIT)
    real = service.write_transaction

    @contextmanager
    def gated(**options: Any) -> Iterator[None]:
        barrier.wait()
        with real(**options):
            yield

    monkeypatch.setattr(service, "write_transaction", gated)
    return barrier


def _in_threads(*jobs: Callable[[], TestResponse]) -> list[TestResponse]:
    results: list[Any] = [None] * len(jobs)

    def run(index: int) -> None:
        try:
            results[index] = jobs[index]()
        except BaseException as error:  # reported by the assertion below
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert all(isinstance(r, TestResponse) for r in results), results
    return results


def test_concurrent_submits_of_one_draft_store_one_decision(
        signed_in: FlaskClient, app: Flask, practitioner: User, sign_in_as: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Both requests read the draft and evaluate before either writes; the second finds the
    draft gone under the lock (PostgreSQL: after waiting for the first one's row lock)."""
    url, token = _complete_draft(signed_in)
    other = app.test_client()
    sign_in_as(other, practitioner)
    other_token = csrf_token(text_of(other.get(url)))
    _gate_write_transactions(monkeypatch, 2)
    first, second = _in_threads(
        lambda: signed_in.post(url, data={**DO_NOT_SHARE, "csrf_token": token}),
        lambda: other.post(url, data={**DO_NOT_SHARE, "csrf_token": other_token}))
    assert first.status_code == second.status_code == 302
    assert first.location == second.location and CONFIRMATION_RE.search(first.location)
    assert len(stored_decisions(app)) == 1 and drafts(app) == []


@contextmanager
def _another_writer(database_url: str) -> Iterator[Callable[[], None]]:
    """Another connection holding the write lock (SQLite) or the audit append lock (PostgreSQL)
    until the returned function is called."""
    writer = _sqlite_writer if database_url.startswith("sqlite") else _postgres_writer
    with writer(database_url) as release:
        yield release


@contextmanager
def _sqlite_writer(database_url: str) -> Iterator[Callable[[], None]]:
    conn = sqlite3.connect(make_url(database_url).database or "", isolation_level=None,
                           check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("CREATE TABLE another_writer (x INTEGER)")  # a change: our snapshot goes stale
    try:
        yield conn.commit
    finally:
        conn.close()


@contextmanager
def _postgres_writer(database_url: str) -> Iterator[Callable[[], None]]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
            yield conn.commit
    finally:
        engine.dispose()


def test_a_submit_waits_for_another_writer_instead_of_failing(
        signed_in: FlaskClient, app: Flask, database_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    url, token = _complete_draft(signed_in)
    at_the_door = threading.Event()
    real = service.write_transaction

    @contextmanager
    def announced(**options: Any) -> Iterator[None]:
        at_the_door.set()
        with real(**options):
            yield

    monkeypatch.setattr(service, "write_transaction", announced)
    with _another_writer(database_url) as release:
        def release_once_waiting() -> None:
            at_the_door.wait(WAIT)
            threading.Event().wait(0.3)  # let the submit block on the lock
            release()

        releaser = threading.Thread(target=release_once_waiting)
        releaser.start()
        response = signed_in.post(url, data={**DO_NOT_SHARE, "csrf_token": token})
        releaser.join(WAIT)
    assert at_the_door.is_set()
    assert response.status_code == 302, text_of(response)[:500]
    assert CONFIRMATION_RE.search(response.location)
    assert len(stored_decisions(app)) == 1
