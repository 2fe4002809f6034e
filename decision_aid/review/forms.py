"""The verdict form: reasons are required unless the reviewer simply agrees."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput, GovTextArea
from wtforms import RadioField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from decision_aid.models.review import MAX_REASONS, VERDICT_LABELS, VERDICTS


class VerdictForm(FlaskForm):
    """A supervisor's verdict on one decision."""

    verdict = RadioField(
        "What is your verdict on this decision?", widget=GovRadioInput(),
        choices=[SelectChoice(v, VERDICT_LABELS[v]) for v in VERDICTS],
        validators=[InputRequired(message="Select your verdict on this decision")])
    reasons = TextAreaField(
        "Reasons", widget=GovTextArea(),
        description=("Required if you agree with conditions or disagree. Do not include names, "
                     "dates of birth or addresses of the people the decision is about."),
        validators=[Length(max=MAX_REASONS,
                           message=f"Reasons must be {MAX_REASONS:,} characters or fewer")])
    submit = SubmitField("Record verdict", widget=GovSubmitInput())

    def validate(self, extra_validators: Any = None) -> bool:
        """Field checks, then the cross-field rule: conditions or disagreement need reasons."""
        valid = super().validate(extra_validators)
        if self.verdict.data in ("agree_with_conditions", "disagree") and not (self.reasons.data or "").strip():
            what = "the conditions" if self.verdict.data == "agree_with_conditions" else "why you disagree"
            self.reasons.errors = [*self.reasons.errors, f"Enter {what}"]
            return False
        return valid
