"""Operations forms (GOV.UK widgets; every limit stated on the page)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovDateInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import DateField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from decision_aid.models.operations import COMPLAINT_SUMMARY_MAX
from decision_aid.operations.governance import NOTES_MAX


class GovDateField(DateField):
    """A day/month/year date that renders again after an empty or partial submission.

    The GOV.UK date widget unpacks exactly three raw values; a form posted without the field
    would otherwise fail to render its own error page.
    """

    def process_formdata(self, valuelist: list[str]) -> None:
        parts = ([str(v).strip() for v in valuelist] + ["", "", ""])[:3]
        self.raw_data = parts
        if not any(parts):
            self.data = None
            return
        try:
            super().process_formdata([" ".join(parts)])
        except ValueError as exc:
            raise ValueError("Enter a real date, for example 27 3 2026") from exc


class SignOffForm(FlaskForm):
    """The DPO approves the rule set in use."""

    notes = TextAreaField("Notes (optional)", widget=GovTextArea(),
                          validators=[Optional(), Length(max=NOTES_MAX)],
                          description=("For example, which legal advice you relied on. Do not "
                                       "name cases or people: this note is kept for good and "
                                       "never disposed of."))
    submit = SubmitField("Approve these rules", widget=GovSubmitInput())


class CaseSearchForm(FlaskForm):
    """Find every decision about a case reference (GET, so no CSRF token)."""

    class Meta:
        csrf = False

    case_ref = StringField("Case reference", widget=GovTextInput(),
                           validators=[DataRequired(message="Enter a case reference"), Length(max=64)])
    submit = SubmitField("Search", widget=GovSubmitInput())


class ComplaintForm(FlaskForm):
    """Log a complaint about a decision."""

    received_on = GovDateField("Date the complaint was received", widget=GovDateInput(),
                            validators=[InputRequired(message="Enter the date the complaint was received")],
                            format="%d %m %Y", description="For example, 27 3 2026")
    summary = TextAreaField(
        "Summary of the complaint", widget=GovTextArea(),
        validators=[DataRequired(message="Enter a summary of the complaint"),
                    Length(max=COMPLAINT_SUMMARY_MAX,
                           message=f"Summary must be {COMPLAINT_SUMMARY_MAX} characters or fewer")],
        description="Do not include names, addresses or other details that identify the person "
                    "or their family. Use the case reference instead.")
    submit = SubmitField("Log complaint", widget=GovSubmitInput())
