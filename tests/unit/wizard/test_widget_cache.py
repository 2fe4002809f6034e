"""The cached choice widgets render byte-for-byte what the GOV.UK macros render (quality target T22).

Every question page of the rule set is rendered in every state it can be in (nothing chosen,
each option chosen, the 'Select ...' error, a tampered value) with the cache cold and warm, and
compared with the uncached path: govuk-frontend-wtf's own render_template for each field, and
the whole question page with the cache switched off.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask, render_template
from flask_wtf.csrf import generate_csrf
from govuk_frontend_wtf.gov_form_base import GovFormBase
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from decision_aid.wizard import forms
from rules import Question


def _states(question: Question) -> Iterator[tuple[str, MultiDict[str, str] | None]]:
    """Form data for every state a question page can be shown in."""
    yield "unanswered", None
    yield "error", MultiDict({"submit": "Continue"})
    yield "tampered", MultiDict({f.fact: "<script>x</script>" for f in question.fields})
    for field in question.fields:
        for option in field.options:
            yield f"{field.fact}={option.value}", MultiDict({field.fact: option.value})


def _page_params(question: Question) -> Iterator[tuple[str, dict[str, Any]]]:
    """The params templates/wizard/question.html passes to each field."""
    if len(question.fields) == 1:
        only = question.fields[0]
        params: dict[str, Any] = {"fieldset": {"legend": {
            "text": question.title, "isPageHeading": True, "classes": "govuk-fieldset__legend--l"}}}
        if hint := question.hint or only.hint:
            params["hint"] = {"text": hint}
        yield only.fact, params
        return
    for qfield in question.fields:
        yield qfield.fact, {"fieldset": {"legend": {"text": qfield.label,
                                                    "classes": "govuk-fieldset__legend--m"}},
                            "classes": "govuk-radios--inline" if qfield.kind == "bool" else ""}


def _questions(app: Flask) -> list[Question]:
    questions: list[Question] = app.extensions["ruleset"].questions
    assert questions
    return questions


def _form(question: Question, data: MultiDict[str, str] | None, csrf: bool = False) -> Any:
    """The question's form in a state; with csrf, the token is posted so only answer errors show."""
    if csrf and data is not None:
        data = MultiDict([*data.items(multi=True), ("csrf_token", generate_csrf())])
    form = forms.form_for(question)(formdata=data, meta={"csrf": csrf})
    if data is not None:
        form.validate()
    return form


def test_every_radio_group_matches_the_govuk_macro_rendering(app: Flask,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, Any]] = []
    cached_render = forms._CachedRender.render

    def spy(self: forms._CachedRender, params: dict[str, Any]) -> Markup:
        seen.append(params)
        return cached_render(self, params)

    monkeypatch.setattr(forms._CachedRender, "render", spy)
    compared = 0
    with app.test_request_context("/"):
        for question in _questions(app):
            for state, data in _states(question):
                for fact, params in _page_params(question):
                    form = _form(question, data)
                    cold = str(form[fact](params=params))
                    library = str(GovFormBase.render(form[fact].widget, seen[-1]))
                    warm = str(_form(question, data)[fact](params=params))
                    assert cold == library == warm, (question.id, state)
                    assert 'type="radio"' in warm
                    compared += 1
    assert compared > 50


def test_error_and_checked_states_reach_the_markup(app: Flask) -> None:
    question = next(q for q in _questions(app) if len(q.fields) == 1)
    fact = question.fields[0].fact
    value = question.fields[0].options[0].value
    with app.test_request_context("/"):
        fact_params = dict(_page_params(question))[fact]
        error = str(_form(question, MultiDict({"submit": "Continue"}))[fact](params=fact_params))
        chosen = str(_form(question, MultiDict({fact: value}))[fact](params=fact_params))
        plain = str(_form(question, None)[fact](params=fact_params))
    assert "govuk-error-message" in error and f'{fact}-error"' in error
    assert "govuk-error-message" not in chosen and " checked" in chosen
    assert " checked" not in plain and len({error, chosen, plain}) == 3


def test_whole_question_pages_match_with_the_cache_off(app: Flask,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    draft = SimpleNamespace(case_ref="CASE-1", completes_decision_id=None,
                            reconsiders_decision_id=None)
    with app.test_request_context("/"):
        pages = {}
        for question in _questions(app):
            for state, data in _states(question):
                pages[question.id, state] = render_template(
                    "wizard/question.html", form=_form(question, data, csrf=True), question=question,
                    draft=draft, back="/decisions")
        monkeypatch.setattr(forms._CachedRender, "render", forms._DirectRender.render)
        for question in _questions(app):
            for state, data in _states(question):
                page = render_template("wizard/question.html", form=_form(question, data, csrf=True),
                                       question=question, draft=draft, back="/decisions")
                assert page == pages[question.id, state], (question.id, state)
                if state in ("error", "tampered"):
                    assert "govuk-error-summary" in page, (question.id, state)


def test_freezing_keeps_types_apart() -> None:
    assert forms.freeze_params({"a": "<b>"}) != forms.freeze_params({"a": Markup("<b>")})
    assert forms.freeze_params([True]) != forms.freeze_params([1])
    params = {"items": [{"text": Markup("<i>x</i>"), "checked": True}], "hint": None, "n": (1, 2.5)}
    thawed = forms.thaw_params(forms.freeze_params(params))
    assert thawed == params and type(thawed["items"][0]["text"]) is Markup
    with pytest.raises(forms._Uncacheable):
        forms.freeze_params({"a": object()})


def test_unusual_params_render_uncached(app: Flask) -> None:
    question = _questions(app)[0]
    fact = question.fields[0].fact
    with app.test_request_context("/"):
        html = str(_form(question, None)[fact](params={"attributes": {"data-x": object()}}))
    assert 'type="radio"' in html
