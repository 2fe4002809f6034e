"""Supervisor review: the queue, the review page and verdicts, the dashboard, replay (docs/review.md)."""

from flask import Blueprint

from decision_aid.navigation import register_nav

bp = Blueprint("review", __name__, url_prefix="/review")
register_nav("Review queue", "review.queue", {"supervisor"}, 40)
register_nav("Dashboard", "review.dashboard", {"supervisor"}, 41)

from decision_aid.review import cli, views  # noqa: E402,F401
from decision_aid.review.notify import review_counts_context  # noqa: E402

bp.app_context_processor(review_counts_context)
