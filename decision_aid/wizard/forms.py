"""Wizard forms: one generated form per rule-set question, hand-written ones for the rest.

Question pages are generated from the rule set (`form_for`), so a lawyer changing a question
in YAML never needs a Python change. Every choice is an explicit allow-list: a tampered value
is a form error with GOV.UK wording, never a 500 and never a fact the engine did not expect.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from flask import current_app
from flask_wtf import FlaskForm
from govuk_frontend_wtf import wtforms_widgets as gov
from markupsafe import Markup
from wtforms import (
    DateField,
    Field,
    RadioField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from decision_aid import clock
from decision_aid.organisation import current_organisation
from decision_aid.wizard.case_reference import case_reference_problem
from decision_aid.wizard.outcomes import (
    CATEGORIES,
    METHOD_LABELS,
    OUTCOME_LABELS,
    SHARING_OUTCOMES,
    departs,
)
from rules import Question, QuestionField

FREE_TEXT_MAX = 1000
SHORT_TEXT_MAX = 120
NO_IDENTIFIERS_HINT = ("Do not include names or other details that identify the child, adult or "
                       "family concerned.")


class _DirectRender:
    """Render the widget's GOV.UK template straight from the Jinja environment.

    govuk-frontend-wtf renders each field with flask.render_template, which runs every context
    processor of the app (some query the database) once per field; a question page has several
    fields, so this keeps page cost close to one render (quality target T22).
    """

    template: str

    def render(self, params: dict[str, Any]) -> Markup:
        # The template is autoescaped, so its output is already safe markup.
        return Markup(current_app.jinja_env.get_template(self.template).render(params=params))  # noqa: S704


class _Uncacheable(Exception):
    """A widget parameter of a type whose value may not be captured faithfully by a cache key."""


_SCALARS = (str, int, float, bool, type(None))


def freeze_params(value: Any) -> Any:
    """A hashable, type-tagged copy of a widget's params (dicts, lists, strings, numbers, Markup).

    Each value carries its exact type, so text and Markup (escaped versus raw in the output) and
    True and 1 never share a key. Any other type raises _Uncacheable: its repr or equality might
    not capture everything the template reads.
    """
    kind = type(value)
    if kind is dict:
        if not all(type(k) is str for k in value):
            raise _Uncacheable
        return (dict, tuple((k, freeze_params(v)) for k, v in value.items()))
    if kind is list or kind is tuple:
        return (kind, tuple(freeze_params(v) for v in value))
    if kind is Markup or kind in _SCALARS:
        return (kind, value)
    raise _Uncacheable


def thaw_params(frozen: Any) -> Any:
    """The params that freeze_params froze: fresh dicts and lists, equal to the originals."""
    kind, value = frozen
    if kind is dict:
        return {k: thaw_params(v) for k, v in value}
    if kind is list:
        return [thaw_params(v) for v in value]
    if kind is tuple:
        return tuple(thaw_params(v) for v in value)
    return value


WIDGET_CACHE_SIZE = 512
_CACHE_KEY = "decision_aid.widget_html"


def _widget_cache() -> Callable[[str, Any], Markup]:
    """This app's bounded LRU of rendered choice widgets (one per app: tests build many apps)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cache = app.extensions.get(_CACHE_KEY)
    if cache is None:
        env = app.jinja_env

        def render(template: str, frozen: Any) -> Markup:
            params = thaw_params(frozen)
            return Markup(env.get_template(template).render(params=params))  # noqa: S704

        cache = app.extensions[_CACHE_KEY] = functools.lru_cache(maxsize=WIDGET_CACHE_SIZE)(render)
    return cache


class _CachedRender(_DirectRender):
    """Reuse the HTML of a choice widget or button already rendered with identical params (T22).

    The GOV.UK radios macro is about a fifth of a question page's CPU, yet its output depends only
    on its params: name, items (allow-listed values, labels, hints, checked flags), legend, hint
    and error message, all from the rule set or our own wording, never free text a user typed.
    So the rendered HTML is kept in a bounded per-process LRU keyed by the complete params; a
    miss renders exactly as before, from a copy rebuilt from the key itself.
    """

    def render(self, params: dict[str, Any]) -> Markup:
        try:
            frozen = freeze_params(params)
        except _Uncacheable:
            return super().render(params)
        return _widget_cache()(self.template, frozen)


class GovRadioInput(_CachedRender, gov.GovRadioInput):
    """GOV.UK radios."""


class GovCheckboxesInput(_CachedRender, gov.GovCheckboxesInput):
    """GOV.UK checkboxes."""


class GovDateInput(_DirectRender, gov.GovDateInput):
    """GOV.UK day, month and year inputs."""


class GovSubmitInput(_CachedRender, gov.GovSubmitInput):
    """GOV.UK button."""


class GovTextArea(_DirectRender, gov.GovTextArea):
    """GOV.UK textarea."""


class GovTextInput(_DirectRender, gov.GovTextInput):
    """GOV.UK text input."""


def choices(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    """WTForms 3.3 wants SelectChoice objects rather than tuples."""
    return [SelectChoice(value, label) for value, label in pairs]


class HintedRadioInput(GovRadioInput):
    """GOV.UK radios with a hint under each option (the rule set gives option hints)."""

    def __init__(self, hints: dict[str, str] | None = None) -> None:
        self.hints = hints or {}

    def map_gov_params(self, field: Field, **kwargs: Any) -> dict[str, Any]:
        params: dict[str, Any] = super().map_gov_params(field, **kwargs)
        for item in params["items"]:
            if hint := self.hints.get(item["value"]):
                item["hint"] = {"text": hint}
        if not (params.get("hint") or {}).get("text"):
            params.pop("hint", None)
        return params


class AllowListRadioField(RadioField):
    """A radio field whose only error, missing or tampered, is the GOV.UK 'Select ...' message."""

    def __init__(self, *args: Any, select_message: str = "Select an option", **kwargs: Any) -> None:
        kwargs.setdefault("validators", [InputRequired(message=select_message)])
        super().__init__(*args, **kwargs)
        self.select_message = select_message

    def pre_validate(self, form: Any) -> None:
        if self.data is None:
            return
        if self.data not in {choice.value for choice in self.choices}:
            raise ValidationError(self.select_message)


class AllowListCheckboxField(SelectMultipleField):
    """Checkboxes whose tampered values are a 'Select ...' error rather than 'Not a valid choice'."""

    def __init__(self, *args: Any, select_message: str = "Select at least one option",
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.select_message = select_message

    def pre_validate(self, form: Any) -> None:
        allowed = {choice.value for choice in self.choices}
        if any(value not in allowed for value in self.data or ()):
            raise ValidationError(self.select_message)


class GovDateField(DateField):
    """A GOV.UK day/month/year date with GOV.UK error messages.

    govuk-frontend-wtf's GovDateInput unpacks exactly three raw values, so a tampered post with
    more or fewer would raise while rendering: raw_data is normalised to three items here.
    """

    def __init__(self, label: str, *, name_for_errors: str, optional: bool = False,
                 **kwargs: Any) -> None:
        kwargs.setdefault("widget", GovDateInput())
        super().__init__(label, format="%d %m %Y", **kwargs)
        self.name_for_errors = name_for_errors
        self.optional = optional

    def process_formdata(self, valuelist: list[Any]) -> None:
        parts = [str(v).strip() for v in valuelist][:3]
        tampered = len(valuelist) not in (0, 3)
        parts += [""] * (3 - len(parts))
        self.raw_data = parts
        self.data = None
        if tampered:
            raise ValueError(f"{self.name_for_errors} must be a real date")
        if self.optional and not any(parts):
            return
        self.data = parse_date_parts(parts, self.name_for_errors)


def parse_date_parts(parts: Sequence[str], name: str) -> dt.date:
    """Day, month and year strings to a date, raising ValueError with the GOV.UK message."""
    day, month, year = parts
    if not (day or month or year):
        raise ValueError(f"Enter the {name.lower()}")
    for value, part in ((day, "day"), (month, "month"), (year, "year")):
        if not value:
            raise ValueError(f"{name} must include a {part}")
    if not all(re.fullmatch(r"\d{1,4}", v) for v in parts) or len(year) != 4:
        raise ValueError(f"{name} must be a real date")
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        raise ValueError(f"{name} must be a real date") from None


def _select_message(field: QuestionField, many: bool) -> str:
    """GOV.UK wording; on a page with several questions the message names which one."""
    base = "Select yes or no" if field.kind == "bool" else "Select an answer"
    return f"{base} for ‘{field.label}’" if many else base


def _radio_for(field: QuestionField, many: bool) -> AllowListRadioField:
    return AllowListRadioField(
        field.label,
        choices=choices((o.value, o.label) for o in field.options),
        description=field.hint,
        widget=HintedRadioInput({o.value: o.hint for o in field.options if o.hint}),
        select_message=_select_message(field, many),
    )


_FORM_CACHE: dict[tuple[str, tuple[QuestionField, ...]], type[FlaskForm]] = {}


def form_for(question: Question) -> type[FlaskForm]:
    """A FlaskForm class for a question page: one allow-listed radio group per field.

    Field names are the fact ids, so a form's data maps straight onto the draft's answers.
    Classes are cached per question (the rule set is immutable once loaded).
    """
    key = (question.id, question.fields)
    if key not in _FORM_CACHE:
        many = len(question.fields) > 1
        attrs: dict[str, Any] = {f.fact: _radio_for(f, many) for f in question.fields}
        attrs["submit"] = SubmitField("Continue", widget=GovSubmitInput())
        _FORM_CACHE[key] = type(f"{question.id.title().replace('_', '')}Form", (FlaskForm,), attrs)
    return _FORM_CACHE[key]


class NewDecisionForm(FlaskForm):
    """Case reference and decision date: the two things asked before the rule-set questions."""

    case_ref = StringField(
        "Case reference", widget=GovTextInput(),
        description="Your organisation's reference for the case. Do not enter a name, date of "
                    "birth, NHS number or postcode.",
        validators=[InputRequired(message="Enter a case reference")])
    as_at = GovDateField(
        "Date of the decision", name_for_errors="Date of the decision",
        description="The law that applies depends on this date. For example, 27 3 2026")
    submit = SubmitField("Continue", widget=GovSubmitInput())

    def validate_case_ref(self, field: Field) -> None:
        """The organisation's format, and nothing that looks like a personal identifier."""
        org = current_organisation()
        assert org is not None
        problem = case_reference_problem(field.data or "", org.case_ref_pattern, org.case_ref_example)
        if problem:
            raise ValidationError(problem)
        field.data = field.data.strip()

    def validate_as_at(self, field: Field) -> None:
        """A decision is recorded on or after the day it is taken, never ahead of it."""
        if field.data is not None and field.data > clock.today():
            raise ValidationError("Date of the decision must be today or in the past")
        if field.data is not None and field.data.year < 2000:
            raise ValidationError("Date of the decision must be after 1 1 2000")


def _text_area(label: str, hint: str = NO_IDENTIFIERS_HINT, max_length: int = FREE_TEXT_MAX) -> Any:
    return TextAreaField(label, widget=GovTextArea(), description=hint, validators=[
        Optional(), Length(max=max_length, message=f"{label} must be {max_length:,} characters or fewer")])


def _text(label: str, hint: str = "") -> Any:
    return StringField(label, widget=GovTextInput(), description=hint, validators=[
        Optional(), Length(max=SHORT_TEXT_MAX,
                           message=f"{label} must be {SHORT_TEXT_MAX} characters or fewer")])


def _categories_field(label: str) -> AllowListCheckboxField:
    return AllowListCheckboxField(
        label, widget=GovCheckboxesInput(),
        choices=choices((cid, text) for cid, (text, _, _) in CATEGORIES.items()),
        description="Select all that apply. Share only what the recipient needs.",
        select_message="Select the information you are sharing")


def _method_field() -> AllowListRadioField:
    return AllowListRadioField("How are you sharing it?", widget=GovRadioInput(),
                               choices=choices(METHOD_LABELS.items()),
                               select_message="Select how you are sharing it",
                               validators=[Optional()])


YES_NO = (("yes", "Yes"), ("no", "No"))


def _require(pairs: list[tuple[Field, str]]) -> bool:
    """Add the GOV.UK 'Enter/Select' message to each empty field (once); False if any was empty."""
    ok = True
    for field, message in pairs:
        if field.errors:
            ok = False
        elif not field.data:
            field.errors = [*field.errors, message]
            ok = False
    return ok


class DecisionForm(FlaskForm):
    """The practitioner's decision: what, with whom, how, when, who was told, advice and reasons."""

    outcome = AllowListRadioField("What have you decided?", widget=GovRadioInput(),
                                  choices=choices(OUTCOME_LABELS.items()),
                                  select_message="Select what you have decided")
    categories = _categories_field("What information are you sharing?")
    description = _text_area("Describe briefly what you are sharing")
    recipient_org = _text("Organisation you are sharing with", "For example, Northshire Council")
    recipient_role = _text("Role of the person receiving it", "For example, duty social worker")
    method = _method_field()
    shared_on = GovDateField("When are you sharing it?", name_for_errors="Date of sharing",
                             optional=True, description="For example, 27 3 2026")
    person_told = AllowListRadioField(
        "Have you told the person or their family that you are sharing?",
        widget=GovRadioInput(), choices=choices(YES_NO), validators=[Optional()],
        select_message="Select yes if you have told the person or their family")
    not_told_reason = _text_area("Why have you not told them?")
    advice_name = _text("Name of the person whose advice you sought",
                        "Leave blank if you did not seek advice")
    advice_role = _text("Their role", "For example, designated safeguarding lead")
    reasons = _text_area("Your reasons")
    submit = SubmitField("Submit decision", widget=GovSubmitInput())

    def __init__(self, *args: Any, recommendation: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recommendation = recommendation

    def validate(self, extra_validators: Any = None) -> bool:
        """Fields are required only for the decisions they describe."""
        valid = super().validate(extra_validators)
        if self.outcome.data in SHARING_OUTCOMES:
            valid &= self._require_sharing_details()
        valid &= self._require_reasons()
        return valid

    def _require_sharing_details(self) -> bool:
        ok = _require([(self.categories, "Select the information you are sharing"),
                       (self.recipient_org, "Enter the organisation you are sharing with"),
                       (self.recipient_role, "Enter the role of the person receiving it"),
                       (self.method, "Select how you are sharing it"),
                       (self.shared_on, "Enter the date of sharing"),
                       (self.person_told, "Select yes if you have told the person or their family")])
        if self.person_told.data == "no":
            ok &= _require([(self.not_told_reason, "Enter why you have not told them")])
        return ok

    def _require_reasons(self) -> bool:
        outcome = self.outcome.data or ""
        if outcome and (outcome == "do_not_share" or departs(self.recommendation, outcome)):
            return _require([(self.reasons, "Enter your reasons for this decision")])
        return True

    def validate_shared_on(self, field: Field) -> None:
        """Sharing is recorded after it happens or on the day, never ahead."""
        if field.data is not None and field.data > clock.today():
            raise ValidationError("Date of sharing must be today or in the past")


class EmergencyWhatForm(FlaskForm):
    """Emergency page 1: what is being shared now."""

    categories = _categories_field("What information are you sharing now?")
    description = _text_area("Describe briefly what you are sharing")
    submit = SubmitField("Continue", widget=GovSubmitInput())

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        return _require([(self.categories, "Select the information you are sharing"),
                         (self.description, "Describe what you are sharing")]) and valid


class EmergencyRecipientForm(FlaskForm):
    """Emergency page 2: with whom and how; the time is stamped by the server."""

    recipient_org = _text("Organisation you are sharing with", "For example, Northshire Police")
    recipient_role = _text("Role of the person receiving it", "For example, 999 call handler")
    method = _method_field()
    submit = SubmitField("Share now and record", widget=GovSubmitInput())

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        return _require([(self.recipient_org, "Enter the organisation you are sharing with"),
                         (self.recipient_role, "Enter the role of the person receiving it"),
                         (self.method, "Select how you are sharing it")]) and valid
