"""SQLite write locking per request: POSTs lock from their first statement unless `@reads_first`.

A tiny app on its own SQLite file, whose session interface reads the database before Flask
matches the URL (as the server-side sessions do), records every BEGIN the engine issues.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from sqlalchemy import Column, Integer, MetaData, String, Table, event, func, insert, select
from sqlalchemy.orm import DeclarativeBase

from decision_aid.database import WriteOutsideWriteTransaction, reads_first, write_transaction
from decision_aid.extensions import db

metadata = MetaData()
note = Table("note", metadata, Column("id", Integer, primary_key=True), Column("text", String))


class _Base(DeclarativeBase):
    metadata = metadata


class Note(_Base):
    """The same table through the ORM (flushes are checked separately from Core statements)."""

    __table__ = note


class ReadingSessions(SecureCookieSessionInterface):
    """Reads the database when the session opens, before the URL is matched (like ours)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        db.session.execute(select(1))
        return super().open_session(app, request)


def _count() -> int:
    return int(db.session.scalar(select(func.count()).select_from(note)) or 0)


def _add_note_in_write_transaction() -> str:
    _count()
    with write_transaction():
        db.session.execute(insert(note).values(text="locked"))
    return str(_count())


def _build_app(db_path: Path, interloper: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(SQLALCHEMY_DATABASE_URI=f"sqlite:///{db_path}", SECRET_KEY="test",
                      TESTING=True)
    db.init_app(app)
    app.session_interface = ReadingSessions()

    @app.get("/notes")
    def count_notes() -> str:
        return str(_count())

    @app.post("/plain")
    def plain() -> str:
        return _add_note_in_write_transaction()

    @app.post("/reads-first")
    @reads_first
    def reads_first_view() -> str:
        return _add_note_in_write_transaction()

    @app.post("/reads-first/another-writer-commits-meanwhile")
    @reads_first
    def with_interloper() -> str:
        _count()
        interloper()
        with write_transaction():
            db.session.execute(insert(note).values(text="after the interloper"))
        return str(_count())

    @app.post("/reads-first/stray-orm-write")
    @reads_first
    def stray_orm() -> str:
        _count()
        db.session.add(Note(text="stray"))
        db.session.commit()
        return "written"

    @app.post("/reads-first/stray-core-write")
    @reads_first
    def stray_core() -> str:
        _count()
        db.session.execute(insert(note).values(text="stray"))
        db.session.commit()
        return "written"

    return app


def _interloper(db_path: Path) -> None:
    """Another process's write, committed after our first read: our snapshot is now stale."""
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO note (text) VALUES ('interloper')")
    other.execute("COMMIT")
    other.close()


@pytest.fixture
def tiny(tmp_path: Path) -> Iterator[tuple[Flask, list[str]]]:
    """The app and the list of BEGIN statements it issues (reset before each request)."""
    db_path = tmp_path / "locking.sqlite3"
    app = _build_app(db_path, lambda: _interloper(db_path))
    begins: list[str] = []
    with app.app_context():
        metadata.create_all(db.engine)
        event.listen(db.engine, "before_cursor_execute", _recorder(begins))
    yield app, begins
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _recorder(begins: list[str]) -> Any:
    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("BEGIN"):
            begins.append(statement)

    return record


def test_a_get_reads_in_deferred_transactions(tiny: tuple[Flask, list[str]]) -> None:
    app, begins = tiny
    assert app.test_client().get("/notes").get_data(as_text=True) == "0"
    assert begins and set(begins) == {"BEGIN"}


def test_other_posts_take_the_write_lock_from_their_first_statement(
        tiny: tuple[Flask, list[str]]) -> None:
    app, begins = tiny
    assert app.test_client().post("/plain").get_data(as_text=True) == "1"
    assert len(begins) >= 2 and set(begins) == {"BEGIN IMMEDIATE"}


def test_a_post_to_an_unknown_url_is_treated_as_a_write(tiny: tuple[Flask, list[str]]) -> None:
    app, begins = tiny
    assert app.test_client().post("/nowhere").status_code == 404
    assert begins == ["BEGIN IMMEDIATE"]


def test_a_reads_first_post_takes_the_lock_only_for_its_write_transaction(
        tiny: tuple[Flask, list[str]]) -> None:
    app, begins = tiny
    assert app.test_client().post("/reads-first").get_data(as_text=True) == "1"
    assert begins[:2] == ["BEGIN", "BEGIN IMMEDIATE"]  # session and view reads, then the write
    assert begins.count("BEGIN IMMEDIATE") == 1


def test_a_reads_first_post_writes_after_another_writer_committed_meanwhile(
        tiny: tuple[Flask, list[str]]) -> None:
    """The WAL 'read then upgrade' failure does not happen: the write starts a fresh transaction."""
    app, _ = tiny
    response = app.test_client().post("/reads-first/another-writer-commits-meanwhile")
    assert response.status_code == 200 and response.get_data(as_text=True) == "2"


@pytest.mark.parametrize("path", ["/reads-first/stray-orm-write", "/reads-first/stray-core-write"])
def test_a_write_outside_write_transaction_in_a_reads_first_view_is_refused(
        tiny: tuple[Flask, list[str]], path: str) -> None:
    app, _ = tiny
    with pytest.raises(WriteOutsideWriteTransaction, match="write_transaction"):
        app.test_client().post(path)
    assert app.test_client().get("/notes").get_data(as_text=True) == "0"
