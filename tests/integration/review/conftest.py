"""People and decisions for the review tests: a North team (two practitioners and a supervisor
who also makes decisions), a South team and its supervisor, and the DPO."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from decision_aid.models import User
from decision_aid.models.decision import Decision
from tests.conftest import START, base_config


@dataclass
class Cast:
    """Everyone the review tests need."""

    author: User
    colleague: User
    supervisor: User
    outsider: User
    other_supervisor: User
    dpo: User


@pytest.fixture
def cast(make_user: Any) -> Cast:
    """North: author, colleague, supervisor. South: outsider and their supervisor. The DPO."""
    return Cast(
        author=make_user("practitioner", teams=["North"]),
        colleague=make_user("practitioner", teams=["North"]),
        supervisor=make_user("supervisor", teams=["North"]),
        outsider=make_user("practitioner", teams=["South"]),
        other_supervisor=make_user("supervisor", teams=["South"]),
        dpo=make_user("dpo"),
    )


def hours_ago(hours: float) -> dt.datetime:
    """A submission time relative to the fake clock's start."""
    return START - dt.timedelta(hours=hours)


@pytest.fixture
def corpus(cast: Cast, make_decision: Any) -> dict[str, Decision]:
    """A decision for every filter, at distinct times, plus ones the supervisor must never see."""
    a, c = cast.author, cast.colleague
    return {
        "lawful": make_decision(a, recommendation="lawful_to_share", submitted_at=hours_ago(10)),
        "not_share": make_decision(a, recommendation="do_not_share", submitted_at=hours_ago(9)),
        "departed": make_decision(c, recommendation="lawful_to_share", outcome="do_not_share",
                                  submitted_at=hours_ago(8)),
        "emergency": make_decision(a, recommendation="share_urgently", submitted_at=hours_ago(2)),
        "overdue": make_decision(c, recommendation="share_urgently", submitted_at=hours_ago(48)),
        "seek": make_decision(c, recommendation="seek_advice", submitted_at=hours_ago(7)),
        "duty": make_decision(a, recommendation="duty_to_share", submitted_at=hours_ago(6)),
        "old": make_decision(a, recommendation="lawful_to_share", submitted_at=hours_ago(24 * 40)),
        "own": make_decision(cast.supervisor, recommendation="lawful_to_share", submitted_at=hours_ago(5)),
        "south": make_decision(cast.outsider, recommendation="lawful_to_share", submitted_at=hours_ago(4)),
    }


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict[str, Any]:
    """Every decision is sampled (rate 1.0) so queue contents are predictable; sampling tests
    override this."""
    return {**base_config(database_url, tmp_path), "REVIEW_SAMPLE_RATE": 1.0}
