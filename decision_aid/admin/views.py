"""Admin pages: thin views over admin.service."""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from decision_aid.admin import bp, service
from decision_aid.admin.forms import ConfirmForm, MembershipForm, SettingsForm, TeamForm, UserForm
from decision_aid.auth.access import roles
from decision_aid.auth.passwords import password_problem
from decision_aid.extensions import db
from decision_aid.models import Role, Team, User
from decision_aid.organisation import current_organisation

ADMIN = Role.ADMIN


def _team_choices() -> list[tuple[int, str]]:
    return [(t.id, t.name) for t in db.session.scalars(select(Team).order_by(Team.name))]


def _user_or_404(user_id: uuid.UUID) -> User:
    return db.session.get(User, user_id) or abort(404)


@bp.route("/users")
@roles(ADMIN)
def list_users() -> str:
    """Every account with its role, teams and status."""
    users = db.session.scalars(select(User).order_by(User.display_name)).all()
    return render_template("admin/list_users.html", users=users)


@bp.route("/users/new", methods=["GET", "POST"])
@roles(ADMIN)
def create_user() -> str | Response:
    """Create an account; the password must pass the strength check."""
    form = UserForm()
    form.teams.choices = _team_choices()
    if form.validate_on_submit():
        problem = password_problem(form.password.data or "", [form.email.data or "", form.display_name.data or ""])
        if problem:
            form.password.errors = [problem]
        elif service.find_by_email(form.email.data or ""):
            form.email.errors = ["An account with this email address already exists"]
        else:
            service.create_user(current_user, email=form.email.data or "", display_name=form.display_name.data or "",
                                role=form.role.data, password=form.password.data or "",
                                job_title=form.job_title.data or "", team_ids=form.teams.data or [])
            flash("User created")
            return redirect(url_for("admin.list_users"))
    return render_template("admin/create_user.html", form=form)


@bp.route("/users/<uuid:user_id>", methods=["GET", "POST"])
@roles(ADMIN)
def show_user(user_id: uuid.UUID) -> str | Response:
    """A user's details, team memberships and the disable action."""
    user = _user_or_404(user_id)
    form = MembershipForm(prefix="teams")
    form.teams.choices = _team_choices()
    if form.validate_on_submit():
        service.set_teams(current_user, user, form.teams.data or [])
        flash("Teams saved")
        return redirect(url_for("admin.show_user", user_id=user.id))
    if not form.is_submitted():
        form.teams.data = [t.id for t in user.teams]
    return render_template("admin/show_user.html", user=user, form=form, confirm=ConfirmForm(prefix="disable"),
                           reset=ConfirmForm(prefix="reset"))


@bp.route("/users/<uuid:user_id>/disable", methods=["POST"])
@roles(ADMIN)
def disable_user(user_id: uuid.UUID) -> Response:
    """Disable an account; its sessions end immediately."""
    user = _user_or_404(user_id)
    if ConfirmForm(prefix="disable").validate_on_submit() and user.id != current_user.id:
        service.disable_user(current_user, user)
        flash("User disabled and signed out everywhere")
    return redirect(url_for("admin.show_user", user_id=user.id))


@bp.route("/users/<uuid:user_id>/reset-two-factor", methods=["POST"])
@roles(ADMIN)
def reset_two_factor(user_id: uuid.UUID) -> Response:
    """Remove a user's authenticator app and recovery codes; they set up a new one at next sign-in."""
    from decision_aid.auth import mfa

    user = _user_or_404(user_id)
    if ConfirmForm(prefix="reset").validate_on_submit():
        mfa.reset(current_user, user)
        flash("Authenticator app reset. The user has been signed out and must set up a new app at next sign-in")
    return redirect(url_for("admin.show_user", user_id=user.id))


@bp.route("/teams", methods=["GET", "POST"])
@roles(ADMIN)
def list_teams() -> str | Response:
    """Teams and a form to add one."""
    form = TeamForm()
    if form.validate_on_submit():
        name = (form.name.data or "").strip()
        if db.session.scalar(select(Team).where(Team.name == name)):
            form.name.errors = ["A team with this name already exists"]
        else:
            service.create_team(current_user, current_organisation(), name)  # type: ignore[arg-type]
            flash("Team added")
            return redirect(url_for("admin.list_teams"))
    teams = db.session.scalars(select(Team).order_by(Team.name)).all()
    return render_template("admin/list_teams.html", teams=teams, form=form)


@bp.route("/settings", methods=["GET", "POST"])
@roles(ADMIN)
def edit_settings() -> str | Response:
    """The organisation's settings."""
    org = current_organisation()
    assert org is not None
    form = SettingsForm(obj=org)
    if form.validate_on_submit():
        values = {name: field.data for name, field in form._fields.items() if name in service.SETTINGS_FIELDS}
        values["advice_contacts"] = service.parse_contacts(form.advice_contacts.data or "")
        values["protective_marking"] = (form.protective_marking.data or "").strip()
        changed = service.update_settings(current_user, org, values)
        flash("Settings saved" if changed else "No settings changed")
        return redirect(url_for("admin.edit_settings"))
    if not form.is_submitted():
        form.advice_contacts.data = service.format_contacts(org.advice_contacts or [])
    return render_template("admin/edit_settings.html", form=form)
