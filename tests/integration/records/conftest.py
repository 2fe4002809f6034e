"""Users and decisions for the record tests: a North team with its supervisor, and outsiders."""

from __future__ import annotations

from typing import Any

import pytest

from decision_aid.models import User


@pytest.fixture
def author(make_user: Any) -> User:
    """The practitioner who made the decision (North team)."""
    return make_user("practitioner", teams=["North"])


@pytest.fixture
def team_supervisor(make_user: Any) -> User:
    """Supervisor of the decision's team."""
    return make_user("supervisor", teams=["North"])


@pytest.fixture
def other_supervisor(make_user: Any) -> User:
    """Supervisor of another team."""
    return make_user("supervisor", teams=["South"])


@pytest.fixture
def other_practitioner(make_user: Any) -> User:
    """Practitioner B, same team as the author: still no access to the author's decisions."""
    return make_user("practitioner", teams=["North"])


@pytest.fixture
def dpo(make_user: Any) -> User:
    """The data protection officer (reads everything)."""
    return make_user("dpo")


@pytest.fixture
def admin(make_user: Any) -> User:
    """An administrator (no access to decision content)."""
    return make_user("admin")
