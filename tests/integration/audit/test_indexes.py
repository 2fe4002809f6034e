"""`flask audit verify --indexes`: every index entry checked against its row (audit/indexes.py).

The chain proves the rows; an edited index page would make the DPO's search leave an event out
while every hash still matched. The SQLite case edits the index's bytes in the file itself, as
someone with the file would; PostgreSQL runs amcheck, which the operator installs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text

from decision_aid import audit
from decision_aid.audit import events
from decision_aid.database import write_transaction
from decision_aid.extensions import db
from decision_aid.models import AuditEvent

MARKED = "CASE-INDEXED1"  # the one event whose index entry the SQLite test edits
EDITED = "CASE-INDEXED9"  # same length: the page stays well formed, only the key changes
INDEX = "ix_audit_event_case_ref_seq"


def _append(count: int, marked_at: int) -> None:
    with write_transaction():
        for i in range(1, count + 1):
            audit.record_event(events.RECORD_VIEWED, actor=None,
                               case_ref=MARKED if i == marked_at else f"CASE-{i:08d}")


def _install_amcheck() -> None:
    with db.engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS amcheck"))


def _last_event() -> AuditEvent:
    return db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()


def _edit_index_bytes(database_url: str) -> None:
    """Change one key inside the index's page in the file, with no connection open."""
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        root = conn.exec_driver_sql(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (INDEX,)).scalar()
        size = conn.exec_driver_sql("PRAGMA page_size").scalar()
    db.session.remove()
    db.engine.dispose()
    path = Path(database_url.removeprefix("sqlite:///"))
    data = bytearray(path.read_bytes())
    page = slice((root - 1) * size, root * size)
    assert data[page].count(MARKED.encode()) == 1, "the index page should hold the key once"
    data[page] = bytes(data[page]).replace(MARKED.encode(), EDITED.encode())
    path.write_bytes(bytes(data))


def test_a_healthy_log_passes_and_the_check_is_recorded(app_ctx, runner, database_url) -> None:
    _append(30, marked_at=7)
    if not database_url.startswith("sqlite"):
        _install_amcheck()
    result = runner.invoke(args=["audit", "verify", "--indexes"])
    assert result.exit_code == 0, result.output
    assert "every index matches its rows" in result.output
    assert audit.event_details(_last_event())["data"]["indexes_checked"] is True


def test_without_the_option_the_indexes_are_not_claimed(app_ctx, runner) -> None:
    _append(5, marked_at=2)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "index" not in result.output
    assert audit.event_details(_last_event())["data"]["indexes_checked"] is False


def test_an_edited_index_page_is_named_with_its_seq(app_ctx, runner, database_url) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("editing PostgreSQL's index files needs a stopped cluster")
    _append(30, marked_at=7)
    _edit_index_bytes(database_url)
    plain = runner.invoke(args=["audit", "verify"])
    assert plain.exit_code == 0, "the chain itself is untouched: only the index lies"
    searched = db.session.scalars(select(AuditEvent.seq).where(AuditEvent.case_ref == MARKED))
    assert list(searched) == [], "the edited index hides the event from a search"
    result = runner.invoke(args=["audit", "verify", "--indexes"])
    assert result.exit_code == 1, result.output
    assert "FAILED at seq 7" in result.output
    assert INDEX in result.output


def test_postgresql_without_amcheck_is_a_setup_error(app_ctx, runner, database_url) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite's checker is built in")
    _append(3, marked_at=1)
    result = runner.invoke(args=["audit", "verify", "--indexes"])
    assert result.exit_code == 2
    assert "amcheck" in result.output
    assert "Traceback" not in result.output


def test_record_and_indexes_cannot_be_combined(app_ctx, runner) -> None:
    result = runner.invoke(args=["audit", "verify", "--record", "DA-2026-000001", "--indexes"])
    assert result.exit_code == 2
    assert "--record cannot be combined" in result.output


def _stop_maintaining(index: str, stop: bool) -> None:
    """PostgreSQL: mark the index not ready (inserts then skip it) or ready again, as a
    superuser editing the catalogue would; new connections see the change."""
    db.session.remove()
    db.engine.dispose()
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE pg_index SET indisready = :ready, indisvalid = :ready "
                          "WHERE indexrelid = CAST(:index AS regclass)"),
                     {"ready": not stop, "index": index})
    db.engine.dispose()


def test_an_index_missing_entries_is_named_on_postgresql(app_ctx, runner, database_url) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("covered by the edited page on SQLite")
    _install_amcheck()
    _append(5, marked_at=2)
    _stop_maintaining(INDEX, stop=True)
    _append(5, marked_at=3)  # these five are in the table but not in the index
    _stop_maintaining(INDEX, stop=False)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    result = runner.invoke(args=["audit", "verify", "--indexes"])
    assert result.exit_code == 1, result.output
    assert INDEX in result.output
    assert "lacks matching index tuple" in result.output
