"""The practitioner's wizard: start page, questions, check answers, recommendation, decision."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask.blueprints import BlueprintSetupState
from flask.sansio.app import App
from werkzeug.routing import BaseConverter, Map

from decision_aid.navigation import register_nav

bp = Blueprint("wizard", __name__)


def question_id_converter(question_ids: list[str]) -> type[BaseConverter]:
    """A URL converter matching only the rule set's practitioner question ids (else 404)."""
    pattern = "|".join(sorted(question_ids, key=len, reverse=True)) or "(?!)"

    class QuestionIdConverter(BaseConverter):
        regex = f"(?:{pattern})"

        def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
            super().__init__(url_map, *args, **kwargs)

    return QuestionIdConverter


def _install_converter(app: App) -> None:
    ruleset = app.extensions["ruleset"]
    ids = [q.id for q in ruleset.questions if q.origin == "practitioner"]
    app.url_map.converters["question_id"] = question_id_converter(ids)


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    """Runs before the blueprint's routes are added, so the converter exists when they compile."""
    _install_converter(state.app)


PRACTITIONER_ROLES = {"practitioner", "supervisor"}
register_nav("Start a decision", "wizard.start", PRACTITIONER_ROLES, 10)
register_nav("Your decisions", "wizard.list_decisions", PRACTITIONER_ROLES, 20)

from decision_aid.wizard import views  # noqa: E402,F401
