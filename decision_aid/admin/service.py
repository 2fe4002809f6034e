"""Admin changes, each written together with its audit event in one transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from decision_aid import audit, clock
from decision_aid.audit import events
from decision_aid.auth.passwords import hash_password
from decision_aid.auth.sessions import end_user_sessions
from decision_aid.database import write_transaction
from decision_aid.extensions import db
from decision_aid.models import Organisation, Team, User

SETTINGS_FIELDS = (
    "name", "org_type", "is_designated_agency", "provides_services_for_relevant_person",
    "apd_in_place", "apd_version", "apd_review_date", "case_ref_pattern", "case_ref_example",
    "protective_marking", "advice_contacts", "draft_retention_days", "decision_retention_years",
    "emergency_completion_hours", "s16la_commencement", "s16la_commencement_confirmed",
    "mfa_required_for_practitioners",
)


def create_user(actor: User | None, *, email: str, display_name: str, role: str, password: str,
                job_title: str = "", team_ids: list[int] | None = None) -> User:
    """Create an account and record who created it."""
    with write_transaction():
        user = User(
            email=email.strip().lower(), display_name=display_name.strip(), role=role,
            job_title=job_title.strip(), password_hash=hash_password(password),
            created_at=clock.now(), password_changed_at=clock.now(),
        )
        user.teams = _teams(team_ids or [])
        db.session.add(user)
        db.session.flush()
        audit.record_event(events.USER_CREATED, actor=actor, data={
            "user_id": str(user.id), "role": role, "teams": sorted(t.id for t in user.teams)})
    return user


def _teams(ids: list[int]) -> list[Team]:
    if not ids:
        return []
    return list(db.session.scalars(select(Team).where(Team.id.in_(ids))).all())


def set_teams(actor: User, user: User, team_ids: list[int]) -> None:
    """Change a user's team memberships (decisions keep the team they were made in)."""
    with write_transaction():
        user.teams = _teams(team_ids)
        audit.record_event(events.USER_UPDATED, actor=actor, data={
            "user_id": str(user.id), "teams": sorted(team_ids)})


def disable_user(actor: User, user: User) -> int:
    """Disable an account and end its sessions at once; returns how many sessions ended."""
    with write_transaction():
        user.active = False
        ended = end_user_sessions(user.id)
        audit.record_event(events.USER_DISABLED, actor=actor, data={
            "user_id": str(user.id), "sessions_ended": ended})
    return ended


def create_team(actor: User | None, org: Organisation, name: str) -> Team:
    """Add a team to the organisation."""
    with write_transaction():
        team = Team(organisation_id=org.id, name=name.strip())
        db.session.add(team)
        db.session.flush()
        audit.record_event(events.TEAM_CHANGED, actor=actor, data={"team_id": team.id, "action": "created"})
    return team


def update_settings(actor: User, org: Organisation, values: dict[str, Any]) -> list[str]:
    """Apply settings and record which ones changed (names only: values may be sensitive)."""
    changed = [f for f in SETTINGS_FIELDS if f in values and getattr(org, f) != values[f]]
    if not changed:
        return []
    with write_transaction():
        for field in changed:
            setattr(org, field, values[field])
        audit.record_event(events.SETTINGS_CHANGED, actor=actor, data={"changed": changed})
    return changed


def parse_contacts(text: str) -> list[dict[str, str]]:
    """'Role: Name' lines to a list of contacts; lines without a colon are ignored."""
    contacts = []
    for line in text.splitlines():
        role, sep, name = line.partition(":")
        if sep and role.strip() and name.strip():
            contacts.append({"role": role.strip()[:60], "name": name.strip()[:120]})
    return contacts


def format_contacts(contacts: list[dict[str, str]]) -> str:
    """The inverse of parse_contacts, for the settings form."""
    return "\n".join(f"{c['role']}: {c['name']}" for c in contacts)


def find_by_email(email: str) -> User | None:
    """An existing account with this address (case-insensitive)."""
    from decision_aid.auth.service import find_user

    return find_user(email)
