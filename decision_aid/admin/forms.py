"""Admin forms. Choice fields use explicit allow-lists so a tampered value is a form error."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovDateInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from decision_aid.models import ORG_TYPES, Role

ROLE_CHOICES = [(r.value, r.value.capitalize() if r != Role.DPO else "Data protection officer") for r in Role]
ORG_TYPE_CHOICES = [(t, t.replace("_", " ").capitalize()) for t in ORG_TYPES]


class UserForm(FlaskForm):
    """Create a staff account; the new user sets nothing until the admin gives them the password."""

    display_name = StringField("Full name", widget=GovTextInput(), validators=[
        DataRequired(message="Enter the person's full name"),
        Length(max=120, message="Full name must be 120 characters or fewer")])
    email = EmailField("Email address", widget=GovTextInput(), validators=[
        DataRequired(message="Enter an email address"),
        Length(max=254, message="Email address must be 254 characters or fewer"),
        Email(message="Enter an email address in the correct format, like name@example.org")])
    job_title = StringField("Job title", widget=GovTextInput(), validators=[
        Optional(), Length(max=120, message="Job title must be 120 characters or fewer")])
    role = RadioField("Role", widget=GovRadioInput(), choices=ROLE_CHOICES, validators=[
        InputRequired(message="Select a role")])
    teams = SelectMultipleField("Teams", widget=GovCheckboxesInput(), choices=[], coerce=int,
                                validators=[Optional()])
    password = StringField("Initial password", widget=GovTextInput(),
                           description="At least 12 characters; three random words work well.",
                           validators=[DataRequired(message="Enter an initial password"),
                                       Length(max=128, message="Password must be 128 characters or fewer")])
    submit = SubmitField("Create user", widget=GovSubmitInput())


class TeamForm(FlaskForm):
    """A new team."""

    name = StringField("Team name", widget=GovTextInput(), validators=[
        DataRequired(message="Enter a team name"),
        Length(max=120, message="Team name must be 120 characters or fewer")])
    submit = SubmitField("Add team", widget=GovSubmitInput())


class MembershipForm(FlaskForm):
    """Which teams a user belongs to."""

    teams = SelectMultipleField("Teams", widget=GovCheckboxesInput(), choices=[], coerce=int,
                                validators=[Optional()])
    submit = SubmitField("Save teams", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    """A bare POST with a CSRF token (disable a user, end sessions)."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())


def _valid_regex(form: FlaskForm, field: StringField) -> None:
    try:
        re.compile(field.data or "")
    except re.error as exc:
        raise ValidationError("Enter a valid pattern (a regular expression)") from exc


class SettingsForm(FlaskForm):
    """The organisation's settings; several feed organisation facts to the rules engine."""

    name = StringField("Organisation name", widget=GovTextInput(), validators=[
        DataRequired(message="Enter the organisation's name"), Length(max=200)])
    org_type = SelectField("Type of organisation", widget=GovSelect(), choices=ORG_TYPE_CHOICES,
                           validators=[InputRequired(message="Select the type of organisation")])
    is_designated_agency = BooleanField(
        "Designated childcare or education agency (Children Act 2004 s16E)", widget=GovCheckboxInput())
    provides_services_for_relevant_person = BooleanField(
        "Provides services under arrangements with a relevant person (s16LA(1)(c))",
        widget=GovCheckboxInput())
    apd_in_place = BooleanField("An appropriate policy document is in place", widget=GovCheckboxInput())
    apd_version = StringField("Appropriate policy document version", widget=GovTextInput(),
                              validators=[Optional(), Length(max=50)])
    apd_review_date = DateField("Appropriate policy document review date", widget=GovDateInput(),
                                validators=[Optional()], format="%d %m %Y")
    case_ref_pattern = StringField("Case reference format (regular expression)", widget=GovTextInput(),
                                   validators=[DataRequired(message="Enter a case reference format"),
                                               Length(max=200), _valid_regex])
    case_ref_example = StringField("Example case reference", widget=GovTextInput(),
                                   validators=[DataRequired(message="Enter an example"), Length(max=40)])
    protective_marking = StringField("Protective marking printed on records", widget=GovTextInput(),
                                     description="For example OFFICIAL-SENSITIVE. Leave empty for none.",
                                     validators=[Optional(), Length(max=60)])
    advice_contacts = TextAreaField("Advice contacts", widget=GovTextArea(),
                                    description=("One per line: role, then a colon, then the name. "
                                                 "For example: DPO: Sam Patel"),
                                    validators=[Optional(), Length(max=2000)])
    draft_retention_days = IntegerField("Keep unfinished drafts for (days)", widget=GovTextInput(),
                                        validators=[InputRequired(message="Enter a number of days"),
                                                    NumberRange(1, 365, message="Enter a number from 1 to 365")])
    decision_retention_years = IntegerField("Keep decisions for (years)", widget=GovTextInput(),
                                            validators=[InputRequired(message="Enter a number of years"),
                                                        NumberRange(1, 100, message="Enter a number from 1 to 100")])
    emergency_completion_hours = IntegerField("Complete emergency records within (hours)", widget=GovTextInput(),
                                              validators=[InputRequired(message="Enter a number of hours"),
                                                          NumberRange(1, 168, message="Enter a number from 1 to 168")])
    s16la_commencement = DateField("Children Act 2004 s16LA duty to share in force from", widget=GovDateInput(),
                                   format="%d %m %Y",
                                   validators=[InputRequired(message="Enter the commencement date")])
    s16la_commencement_confirmed = BooleanField("The commencement date is confirmed", widget=GovCheckboxInput())
    mfa_required_for_practitioners = BooleanField("Practitioners must use a second factor to sign in",
                                                  widget=GovCheckboxInput())
    submit = SubmitField("Save settings", widget=GovSubmitInput())
