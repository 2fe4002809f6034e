"""The export form: an optional date range (whole UTC days)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import DateField, SubmitField
from wtforms.validators import Optional


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
