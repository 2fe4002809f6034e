"""Abandoned drafts are purged after the organisation's draft retention period."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from decision_aid.clock import FakeClock
from tests.integration.wizard.helpers import drafts, start_draft


def test_drafts_purge_removes_only_abandoned_drafts(signed_in: FlaskClient, app: Flask, runner: FlaskCliRunner,
                                                    fake_clock: FakeClock, org_settings: Any,
                                                    sign_in_as: Any, practitioner: Any) -> None:
    org_settings(draft_retention_days=7)
    start_draft(signed_in, case_ref="CASE-101")
    fake_clock.advance(days=6)
    sign_in_as(signed_in, practitioner)
    start_draft(signed_in, case_ref="CASE-202")
    fake_clock.advance(days=1, minutes=1)
    result = runner.invoke(args=["drafts", "purge"])
    assert result.exit_code == 0 and "Deleted 1 abandoned draft." in result.output
    assert [d.case_ref for d in drafts(app)] == ["CASE-202"]
