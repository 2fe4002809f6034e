"""The DPO's forms: the export's optional date range (whole UTC days), the audit log search."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextInput
from wtforms import DateField, HiddenField, SelectField, StringField, SubmitField
from wtforms.validators import Length, Optional, Regexp


class ExportForm(FlaskForm):
    """Date range for a bulk export; both ends optional."""

    date_from = DateField("From (optional)", widget=GovTextInput(), validators=[Optional()],
                          description="For example, 2026-11-01", format="%Y-%m-%d")
    date_to = DateField("To (optional)", widget=GovTextInput(), validators=[Optional()],
                        description="For example, 2026-11-30", format="%Y-%m-%d")
    submit = SubmitField("Download", widget=GovSubmitInput())

    def validate(self, extra_validators: Any = None) -> bool:
        """Dates must be real and in order."""
        valid = super().validate(extra_validators)
        for field in (self.date_from, self.date_to):
            if field.errors:
                name = str(field.label.text).replace(" (optional)", "")
                field.errors = [f"{name} must be a real date, like 2026-11-27"]
        if valid and self.date_from.data and self.date_to.data and self.date_from.data > self.date_to.data:
            self.date_to.errors = ["To must be the same as or after from"]
            return False
        return valid


class AuditLogFilterForm(FlaskForm):
    """The audit log search: a GET form (searching changes nothing; no CSRF token, bookmarkable).

    Choices (staff, event types) are set by the view. Every value is checked here; a bad value
    is shown in the error summary with what was entered kept in the field.
    """

    class Meta:
        csrf = False

    actor = SelectField("Staff member", widget=GovSelect(), validators=[Optional()], validate_choice=False)
    actor_email = StringField("Or their e-mail address", widget=GovTextInput(),
                              validators=[Optional(), Length(
                                  max=254, message="E-mail address must be 254 characters or fewer")])
    case_ref = StringField("Case reference", widget=GovTextInput(),
                           validators=[Optional(), Length(
                               max=64, message="Case reference must be 64 characters or fewer")])
    event_type = SelectField("Event", widget=GovSelect(), validators=[Optional()], validate_choice=False)
    date_from = DateField("From", widget=GovTextInput(), validators=[Optional()],
                          description="For example, 2026-11-01", format="%Y-%m-%d")
    date_to = DateField("To", widget=GovTextInput(), validators=[Optional()],
                        description="For example, 2026-11-30", format="%Y-%m-%d")
    before = HiddenField(validators=[Optional(), Regexp(r"^[1-9][0-9]{0,17}$",
                                                        message="The page link is not valid: "
                                                                "start again from the first page")])
    submit = SubmitField("Search", widget=GovSubmitInput())

    def validate(self, extra_validators: Any = None) -> bool:
        """Allow-listed choices, real dates in order, and no two different people at once."""
        valid = super().validate(extra_validators)
        for field, message in ((self.actor, "Select a staff member from the list"),
                               (self.event_type, "Select an event from the list")):
            if field.data and field.data not in {value for value, _ in field.choices or ()}:
                field.errors = [*field.errors, message]
                valid = False
        for field in (self.date_from, self.date_to):
            if field.errors:
                field.errors = [f"{field.label.text} must be a real date, like 2026-11-27"]
        if valid and self.date_from.data and self.date_to.data and self.date_from.data > self.date_to.data:
            self.date_to.errors = ["To must be the same as or after from"]
            return False
        return valid
