"""KEK rotation, backup and restore with rollback detection against the latest checkpoint."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from decision_aid import crypto
from decision_aid.audit import write_checkpoint
from decision_aid.extensions import db
from decision_aid.models.decision import Decision
from decision_aid.models.operations import CaseKey
from tests.fixtures_db import postgres_database
from tests.integration.operations.helpers import sentinel_sharing


def test_rotate_kek_rewraps_every_live_key(app: Flask, runner: FlaskCliRunner, tmp_path: Path,
                                           make_decision: Any, practitioner: Any) -> None:
    sharing, _ = sentinel_sharing("ROT")
    decision = make_decision(practitioner, case_ref="CASE-60001", sharing=sharing)
    make_decision(practitioner, case_ref="CASE-60002")
    new_file = tmp_path / "new-kek.key"
    assert runner.invoke(args=["keys", "generate-kek", "--out", str(new_file)]).exit_code == 0
    result = runner.invoke(args=["keys", "rotate-kek", "--new-key-file", str(new_file)])
    assert result.exit_code == 0, result.output
    assert "Re-wrapped 2 data keys" in result.output
    new = crypto.read_kek_file(new_file, "new")
    with app.app_context():
        assert {k.kek_id for k in db.session.scalars(select(CaseKey))} == {new.kek_id}
    app.config["KEK_FILE"] = str(new_file)
    with app.app_context():
        assert db.session.get(Decision, decision.id).sharing["reasons"] == sharing["reasons"]
        events = db.session.execute(text(
            "SELECT count(*) FROM audit_event WHERE event_type = 'keys.kek_rotated'")).scalar()
        assert events == 1
    assert runner.invoke(args=["keys", "check"]).exit_code == 0
    again = runner.invoke(args=["keys", "rotate-kek", "--new-key-file", str(new_file)])
    assert again.exit_code == 2 and "already in use" in again.output


def test_rotation_with_a_wrong_old_key_changes_nothing(app: Flask, runner: FlaskCliRunner,
                                                       tmp_path: Path, make_decision: Any,
                                                       practitioner: Any, kek_file: Path) -> None:
    make_decision(practitioner, case_ref="CASE-60003")
    wrong, new = tmp_path / "wrong.key", tmp_path / "new.key"
    crypto.write_kek_file(wrong)
    crypto.write_kek_file(new)
    app.config["KEK_FILE"] = str(wrong)
    result = runner.invoke(args=["keys", "rotate-kek", "--new-key-file", str(new)])
    assert result.exit_code == 1 and "nothing was changed" in result.output
    assert runner.invoke(args=["keys", "check"]).exit_code == 1
    app.config["KEK_FILE"] = str(kek_file)
    assert runner.invoke(args=["keys", "check"]).exit_code == 0


def _verify(url: str, app: Flask, checkpoint: Path | None = None) -> Any:
    from decision_aid.operations.backup import verify_restored

    with app.app_context():
        return verify_restored(url, checkpoint)


@pytest.fixture
def restore_url(database_url: str, tmp_path: Path) -> Any:
    """A fresh, empty database to restore into (a new file, or a new PostgreSQL database)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    try:
        from decision_aid.operations.backup import _pg_tool

        _pg_tool("pg_dump")
        _pg_tool("pg_restore")
    except Exception as exc:
        pytest.skip(f"PostgreSQL client tools not available: {exc}")
    with postgres_database() as (_, url):
        yield url


def test_backup_restores_and_a_rollback_is_detected(
        app: Flask, runner: FlaskCliRunner, tmp_path: Path, make_decision: Any,
        practitioner: Any, restore_url: str) -> None:
    sharing, sentinels = sentinel_sharing("BAK")
    make_decision(practitioner, case_ref="CASE-60004", sharing=sharing)
    with app.app_context():
        write_checkpoint()
    old = tmp_path / "backup-old"
    result = runner.invoke(args=["backup", "create", "--out", str(old)])
    assert result.exit_code == 0, result.output
    manifest = json.loads((old / "MANIFEST.json").read_text())
    assert manifest["keys_not_included"]["key_encryption_key"]
    assert list((old / "checkpoints").glob("checkpoint-*.txt"))
    files = b"".join(p.read_bytes() for p in old.rglob("*") if p.is_file())
    assert not any(s.encode() in files for s in sentinels)
    with app.app_context():
        assert crypto.load_kek().key not in files

    restored = runner.invoke(args=["backup", "restore", "--from", str(old), "--database-url", restore_url])
    assert restored.exit_code == 0, restored.output
    assert "Restored and verified: OK" in restored.output

    make_decision(practitioner, case_ref="CASE-60005")
    with app.app_context():
        write_checkpoint()
    # Restoring the OLD backup now must be reported: the latest checkpoint is beyond its head.
    if restore_url.startswith("postgresql"):
        with postgres_database() as (_, fresh):
            _restore_and_expect_rollback(runner, old, fresh)
        return
    _restore_and_expect_rollback(runner, old, f"{restore_url}-2")


def _restore_and_expect_rollback(runner: FlaskCliRunner, backup: Path, url: str) -> None:
    result = runner.invoke(args=["backup", "restore", "--from", str(backup), "--database-url", url])
    assert result.exit_code == 1, result.output
    assert "restored from an older copy" in result.output


def test_restore_refuses_to_overwrite(runner: FlaskCliRunner, tmp_path: Path, database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("file overwrite protection is SQLite-only")
    out = tmp_path / "b"
    assert runner.invoke(args=["backup", "create", "--out", str(out)]).exit_code == 0
    target = Path(str(make_url(database_url).database))
    result = runner.invoke(args=["backup", "restore", "--from", str(out), "--database-url", database_url])
    assert result.exit_code == 2 and "exists" in result.output
    assert target.exists()
    shutil.rmtree(out)
