"""Date parsing with GOV.UK messages and the departure rule."""

from __future__ import annotations

import datetime as dt

import pytest

from decision_aid.wizard.forms import parse_date_parts
from decision_aid.wizard.outcomes import departs


def test_parse_date_parts() -> None:
    assert parse_date_parts(["2", "11", "2026"], "Date") == dt.date(2026, 11, 2)
    for parts, message in ((["", "", ""], "Enter the date"), (["", "1", "2026"], "must include a day"),
                           (["1", "x", "2026"], "real date"), (["1", "1", "26"], "real date"),
                           (["30", "2", "2026"], "real date")):
        with pytest.raises(ValueError, match=message):
            parse_date_parts(parts, "Date")


def test_departing_from_a_recommendation() -> None:
    assert not departs("lawful_to_share", "share_part")
    assert departs("lawful_to_share", "do_not_share")
    assert not departs("seek_advice", "wait_for_advice")
    assert departs("do_not_share", "share_all")
    assert not departs("share_urgently", "share_now")
