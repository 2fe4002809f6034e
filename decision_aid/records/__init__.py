"""Records: the rationale record of a decision (page, print view, PDF), the recipient notice and
"who has seen this record". Everything is rendered from the stored decision and trace.

Reusable by other areas: `decision_aid.records.access.can_view` and
`get_viewable_decision_or_404` (one definition of who may see a decision), and
`decision_aid.records.service.review_summary` (the review area's hook).
"""

from flask import Blueprint
from flask.blueprints import BlueprintSetupState

bp = Blueprint("records", __name__)


@bp.record_once
def _on_register(state: BlueprintSetupState) -> None:
    """Start-up self-check (HarfBuzz subsetting), once per app."""
    from decision_aid.records.pdf import init_records

    init_records(state.app)


from decision_aid.records import views  # noqa: E402,F401
