"""'Your decisions': 50 a page, newest first, keyset by reference, without the sealed content."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from decision_aid.extensions import db
from decision_aid.models import Decision, User
from decision_aid.wizard.state import PAGE_SIZE
from tests.helpers import text_of

REFERENCE = re.compile(r">(DA-\d{4}-\d{6})</a>")


def _make_history(make_decision: Any, practitioner: User, count: int) -> None:
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    for i in range(count):  # two decisions share each second: the id breaks the tie
        make_decision(practitioner, submitted_at=start + dt.timedelta(seconds=i // 2), audit=False)


def test_pages_walk_every_decision_once_newest_first(
        app: Flask, signed_in: FlaskClient, make_decision: Any, practitioner: User) -> None:
    _make_history(make_decision, practitioner, PAGE_SIZE + 7)
    first = text_of(signed_in.get("/decisions"))
    page1 = REFERENCE.findall(first)
    assert len(page1) == PAGE_SIZE and "Older decisions" in first and "Newest decisions" not in first
    older = re.search(r'href="(/decisions\?older-than=DA-[0-9-]+)"', first)
    assert older and older.group(1).endswith(page1[-1])
    second = text_of(signed_in.get(older.group(1)))
    page2 = REFERENCE.findall(second)
    assert len(page2) == 7 and "Older decisions" not in second and "Newest decisions" in second
    assert not set(page1) & set(page2)
    with app.app_context():
        newest_first = db.session.scalars(select(Decision.reference).order_by(
            Decision.submitted_at.desc(), Decision.id.desc())).all()
    assert page1 + page2 == newest_first


def test_unknown_or_someone_elses_reference_is_a_404(
        signed_in: FlaskClient, make_decision: Any, make_user: Any) -> None:
    other = make_decision(make_user(role="practitioner", teams=["North"]))
    assert signed_in.get(f"/decisions?older-than={other.reference}").status_code == 404
    assert signed_in.get("/decisions?older-than=not-a-reference").status_code == 404


def test_the_list_does_not_read_the_sealed_content(
        app: Flask, signed_in: FlaskClient, make_decision: Any, practitioner: User) -> None:
    _make_history(make_decision, practitioner, 3)
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert len(REFERENCE.findall(text_of(signed_in.get("/decisions")))) == 3
    finally:
        event.remove(engine, "before_cursor_execute", record)
    listing = [s for s in statements if "FROM decision" in s and "decision.reference" in s]
    assert listing and not any("content_ciphertext" in s for s in listing)
