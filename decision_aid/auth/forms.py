"""Hand-written forms for signing in (the wizard's forms are generated from the rule set)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import EmailField, HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp


class SignInForm(FlaskForm):
    """E-mail and password; the error never says which of the two was wrong."""

    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        validators=[
            DataRequired(message="Enter your email address"),
            Length(max=254, message="Email address must be 254 characters or fewer"),
            # A simple shape check: wtforms' Email() needs the email_validator package, which is
            # not a dependency, and the address is only ever compared with existing accounts.
            Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                   message="Enter an email address in the correct format, like name@example.org"),
        ],
    )
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[
            DataRequired(message="Enter your password"),
            Length(max=128, message="Password must be 128 characters or fewer"),
        ],
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())


CODE_MESSAGE = "Enter the 6-digit code from your authenticator app"


class CodeForm(FlaskForm):
    """A 6-digit code from an authenticator app (spaces allowed, as apps often show them)."""

    code = StringField(
        "Security code",
        widget=GovTextInput(),
        validators=[
            DataRequired(message=CODE_MESSAGE),
            Regexp(r"^\s*[0-9](\s*[0-9]){5}\s*$", message=CODE_MESSAGE),
        ],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class RecoveryCodeForm(FlaskForm):
    """One of the recovery codes shown at enrolment."""

    code = StringField(
        "Recovery code",
        widget=GovTextInput(),
        validators=[
            DataRequired(message="Enter one of your recovery codes"),
            Length(max=60, message="Enter a recovery code in the format shown, like ABCD-EFGH-JKLM-NPQR-STUV-WXYZ"),
        ],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class ReauthenticateForm(FlaskForm):
    """Step-up: the password again, and a code when the user has an authenticator app."""

    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[DataRequired(message="Enter your password"), Length(max=128)],
    )
    code = StringField(
        "Security code",
        widget=GovTextInput(),
        validators=[Optional(), Regexp(r"^\s*[0-9](\s*[0-9]){5}\s*$", message=CODE_MESSAGE)],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class ChangePasswordForm(FlaskForm):
    """The current password, then the new one twice."""

    current_password = PasswordField(
        "Current password", widget=GovPasswordInput(),
        validators=[DataRequired(message="Enter your current password"), Length(max=128)],
    )
    new_password = PasswordField(
        "New password", widget=GovPasswordInput(),
        validators=[DataRequired(message="Enter a new password"),
                    Length(max=128, message="Password must be 128 characters or fewer")],
    )
    confirm_password = PasswordField(
        "Confirm new password", widget=GovPasswordInput(),
        validators=[DataRequired(message="Confirm your new password"),
                    EqualTo("new_password", message="Passwords must match")],
    )
    submit = SubmitField("Change password", widget=GovSubmitInput())


class ActionForm(FlaskForm):
    """A button that posts (CSRF-protected) with an optional target."""

    target = HiddenField(validators=[Optional(), Length(max=64)])
