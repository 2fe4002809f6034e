"""Flask CLI commands: create-user, seed-demo (and the audit group from decision_aid.audit)."""

from __future__ import annotations

import secrets
import sys

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import select

from decision_aid.extensions import db
from decision_aid.models import Organisation, Role, Team, User

DEMO_TEAMS = ("Children's social care – North", "Children's social care – South")
# (email, display name, role, job title, indexes into DEMO_TEAMS)
DEMO_USERS: tuple[tuple[str, str, Role, str, list[int]], ...] = (
    ("practitioner@example.org", "Priya Practitioner", Role.PRACTITIONER, "Social worker", [0]),
    ("practitioner2@example.org", "Pat Practitioner", Role.PRACTITIONER, "Family support worker", [1]),
    ("supervisor@example.org", "Sam Supervisor", Role.SUPERVISOR, "Team manager", [0]),
    ("dpo@example.org", "Dana DPO", Role.DPO, "Data protection officer", []),
    ("admin@example.org", "Alex Admin", Role.ADMIN, "System administrator", []),
)


def register(app: Flask) -> None:
    """Attach our commands to the app's CLI."""
    app.cli.add_command(create_user_command)
    app.cli.add_command(seed_demo_command)
    from decision_aid.audit.cli import register_cli as register_audit_cli
    from decision_aid.wizard.cli import register_cli as register_wizard_cli

    register_wizard_cli(app)
    register_audit_cli(app)


def fail(message: str) -> None:
    """One line on stderr and exit code 2: bad input never shows a traceback."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


def ensure_organisation(name: str) -> Organisation:
    """The single organisation row, created on first use."""
    org = db.session.scalars(select(Organisation).limit(1)).first()
    if org is None:
        org = Organisation(name=name, advice_contacts=[])
        db.session.add(org)
        db.session.commit()
    return org


@click.command("create-user")
@with_appcontext
@click.option("--email", required=True)
@click.option("--name", "display_name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--team", "teams", multiple=True, help="Team name (repeatable); created if missing.")
def create_user_command(email: str, display_name: str, role: str, password: str, teams: tuple[str, ...]) -> None:
    """Create a staff account (for example the first admin)."""
    from decision_aid.admin import service
    from decision_aid.auth.passwords import password_problem

    if problem := password_problem(password, [email, display_name]):
        fail(problem)
    if service.find_by_email(email):
        fail(f"an account with email {email} already exists")
    org = ensure_organisation("Your organisation")
    team_ids = [_team(org, name).id for name in teams]
    user = service.create_user(None, email=email, display_name=display_name, role=role,
                               password=password, team_ids=team_ids)
    click.echo(f"Created {user.role} {user.email}")


def _team(org: Organisation, name: str) -> Team:
    from decision_aid.admin import service

    team = db.session.scalars(select(Team).where(Team.name == name)).first()
    return team or service.create_team(None, org, name)


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """A demo organisation with one user per role; prints sign-in details only when it creates them."""
    from flask import current_app

    from decision_aid.admin import service

    org = ensure_organisation(str(current_app.config["ORG_NAME"]))
    teams = [_team(org, name) for name in DEMO_TEAMS]
    created: list[tuple[str, str, str]] = []
    keys: list[tuple[str, str]] = []
    for email, name, role, title, team_idx in DEMO_USERS:
        if service.find_by_email(email):
            continue
        password = "-".join(secrets.choice(_WORDS) for _ in range(4))
        user = service.create_user(None, email=email, display_name=name, role=role.value, password=password,
                                   job_title=title, team_ids=[teams[i].id for i in team_idx])
        created.append((role.value, email, password))
        keys.append((email, _enrol_demo_user(user)))
    _print_created(created)
    _print_keys(keys)


def _enrol_demo_user(user: User) -> str:
    """Enrol a demo user in TOTP so a newcomer can add the key to an authenticator app."""
    import pyotp

    from decision_aid.auth import mfa

    secret = pyotp.random_base32(32)
    mfa.provision(user, secret)
    return secret


def _print_keys(keys: list[tuple[str, str]]) -> None:
    if keys:
        click.echo("Authenticator app keys (add one to an app as a time-based key; shown once):")
    for email, secret in keys:
        click.echo(f"  {email:<28} {secret}")


def _print_created(created: list[tuple[str, str, str]]) -> None:
    if not created:
        click.echo("Demo users already exist; nothing changed.")
        return
    click.echo("Demo users (shown once; keep them somewhere safe):")
    for role, email, password in created:
        click.echo(f"  {role:<13} {email:<28} {password}")


_WORDS = (
    "harbour", "lantern", "meadow", "copper", "violet", "granite", "orchard", "falcon", "thistle",
    "compass", "pebble", "willow", "saffron", "beacon", "juniper", "marble", "quartz", "heron",
    "cobalt", "fennel", "glacier", "hazel", "indigo", "kestrel", "linden", "mosaic", "nectar",
)
