"""User fixtures. Passwords are hashed once per run: Argon2id is deliberately slow."""

from __future__ import annotations

import functools
from collections.abc import Callable

import pytest
from flask import Flask

from decision_aid import clock
from decision_aid.extensions import db
from decision_aid.models import Role, Team, User

PASSWORD = "correct-horse-battery-staple-42"


@functools.cache
def password_hash() -> str:
    """The Argon2id hash of PASSWORD, computed once."""
    from decision_aid.auth.passwords import hash_password

    return hash_password(PASSWORD)


MakeUser = Callable[..., User]


@pytest.fixture
def make_user(app: Flask) -> MakeUser:
    """Build users quickly: make_user(role="supervisor", teams=["North"])."""
    counter = iter(range(1, 10_000))

    def build(role: str = Role.PRACTITIONER.value, teams: list[str] | tuple[str, ...] = (),
              email: str | None = None, active: bool = True) -> User:
        with app.app_context():
            user = User(
                email=email or f"{role}{next(counter)}@example.org",
                display_name=f"Test {role.capitalize()}", role=role,
                password_hash=password_hash(), active=active, created_at=clock.now(),
            )
            user.teams = [_team(name) for name in teams]
            db.session.add(user)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
            return user

    return build


def _team(name: str) -> Team:
    from decision_aid.models import Organisation

    team = db.session.scalars(db.select(Team).where(Team.name == name)).first()
    if team is None:
        org = db.session.scalars(db.select(Organisation)).first()
        assert org is not None
        team = Team(name=name, organisation_id=org.id)
        db.session.add(team)
        db.session.flush()
    return team
