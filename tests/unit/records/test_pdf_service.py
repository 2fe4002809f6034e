"""Unit tests: the HarfBuzz start-up check, one render at a time, stylesheet choice, helpers."""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from decision_aid.models.decision import Decision
from decision_aid.records import labels, pdf
from decision_aid.records.access import (
    DPO_OVERSIGHT,
    OWN_DECISION,
    TEAM_SUPERVISOR,
    access_reason,
    can_view,
    can_view_access_log,
)
from decision_aid.records.service import format_when, pdf_filename


def test_missing_harfbuzz_subsetting_warns_loudly(monkeypatch: pytest.MonkeyPatch,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(pdf, "harfbuzz_subsetting_available", lambda: False)
    with caplog.at_level(logging.WARNING, logger=pdf.__name__):
        assert pdf.check_harfbuzz_subsetting() is False
    assert any(r.levelno == logging.WARNING and "HarfBuzz" in r.getMessage()
               and "twice as slow" in r.getMessage() for r in caplog.records)


def test_available_harfbuzz_subsetting_is_quiet(monkeypatch: pytest.MonkeyPatch,
                                                caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(pdf, "harfbuzz_subsetting_available", lambda: True)
    with caplog.at_level(logging.WARNING, logger=pdf.__name__):
        assert pdf.check_harfbuzz_subsetting() is True
    assert not caplog.records


def test_detection_follows_weasyprint_loading_the_library(monkeypatch: pytest.MonkeyPatch) -> None:
    from weasyprint.text import ffi

    monkeypatch.setattr(ffi, "harfbuzz_subset", None)
    assert pdf.harfbuzz_subsetting_available() is False


def test_init_records_stores_the_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf, "harfbuzz_subsetting_available", lambda: False)
    app = SimpleNamespace(extensions={})
    pdf.init_records(app)  # type: ignore[arg-type]
    assert app.extensions["records.harfbuzz_subsetting"] is False


def test_only_one_render_runs_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    running, peak, lock = [0], [0], threading.Lock()

    def slow_render(*args: Any) -> bytes:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return b"%PDF"

    monkeypatch.setattr(pdf, "_render", slow_render)
    monkeypatch.setattr(pdf, "_compiled_stylesheet", lambda css: css)
    threads = [threading.Thread(target=pdf.render_pdf, args=("<p>x</p>", pdf.PdfMetadata("t")),
                                kwargs={"css": ""}) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak[0] == 1


def test_stale_compiled_stylesheet_is_not_used(tmp_path: Path) -> None:
    source = tmp_path / "print.scss"
    static = tmp_path / "print.css"
    static.write_text("old {}", encoding="utf-8")
    source.write_text("// a Sass comment\nnew {}\n", encoding="utf-8")
    os.utime(static, (1_000_000, 1_000_000))
    assert pdf._read_stylesheet(str(static), str(source)).strip() == "new {}"
    os.utime(static, None)
    os.utime(source, (1_000_000, 1_000_000))
    assert pdf._read_stylesheet(str(static), str(source)) == "old {}"
    static.unlink()
    assert "new {}" in pdf._read_stylesheet(str(static), str(source))


class _User(SimpleNamespace):
    is_authenticated = True
    is_active = True

    def has_role(self, *roles: Any) -> bool:
        return self.role in {str(getattr(r, "value", r)) for r in roles}


def _decision(author: uuid.UUID, team_id: int | None) -> Decision:
    return Decision(practitioner_id=author, team_id=team_id)


def test_access_rules_per_role() -> None:
    author_id = uuid.uuid4()
    decision = _decision(author_id, team_id=1)
    author = _User(id=author_id, role="practitioner", teams=[])
    colleague = _User(id=uuid.uuid4(), role="practitioner", teams=[SimpleNamespace(id=1)])
    supervisor = _User(id=uuid.uuid4(), role="supervisor", teams=[SimpleNamespace(id=1)])
    elsewhere = _User(id=uuid.uuid4(), role="supervisor", teams=[SimpleNamespace(id=2)])
    dpo = _User(id=uuid.uuid4(), role="dpo", teams=[])
    admin = _User(id=author_id, role="admin", teams=[SimpleNamespace(id=1)])
    assert access_reason(author, decision) == OWN_DECISION
    assert access_reason(supervisor, decision) == TEAM_SUPERVISOR
    assert access_reason(dpo, decision) == DPO_OVERSIGHT
    assert not can_view(colleague, decision)
    assert not can_view(elsewhere, decision)
    assert not can_view(admin, decision), "admins never see decision content"
    assert not can_view(None, decision)
    disabled = _User(id=author_id, role="practitioner", teams=[])
    disabled.is_active = False
    assert not can_view(disabled, decision)
    assert not can_view(supervisor, _decision(author_id, team_id=None))
    assert can_view_access_log(supervisor, decision) and can_view_access_log(dpo, decision)
    assert not can_view_access_log(author, decision)
    own = _User(id=author_id, role="supervisor", teams=[SimpleNamespace(id=2)])
    assert can_view(own, decision) and not can_view_access_log(own, decision)


def test_download_name_is_the_reference_only() -> None:
    decision = Decision(reference="DA-2026-000123")
    assert pdf_filename(decision) == "DA-2026-000123.pdf"
    assert pdf_filename(decision, "recipient-notice") == "DA-2026-000123-recipient-notice.pdf"
    assert pdf_filename(Decision(reference='DA-2026-1";x')) == "DA-2026-1X.pdf"


def test_formatting_helpers() -> None:
    assert format_when("2026-11-03T10:15:00+00:00") == "03 November 2026 at 10:15 UTC"
    assert format_when("2026-11-03T11:15:00+01:00") == "03 November 2026 at 10:15 UTC"
    assert format_when(None) == "Not recorded"
    assert format_when("not a date") == "not a date"
    assert labels.humanise("share_minimum_necessary") == "Share minimum necessary"
    assert labels.humanise(["a", "b"]) == "a; b"
    assert labels.humanise(False) == "No"
