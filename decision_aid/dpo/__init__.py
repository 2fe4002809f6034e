"""The data protection officer's area: every decision (read-only), exports, audit chain status."""

from flask import Blueprint

from decision_aid.navigation import register_nav

bp = Blueprint("dpo", __name__, url_prefix="/dpo")
register_nav("Audit overview", "dpo.overview", {"dpo"}, 50)
register_nav("All decisions", "dpo.decisions", {"dpo"}, 51)
register_nav("Dashboard", "review.dashboard", {"dpo"}, 52)
register_nav("Export", "dpo.export", {"dpo"}, 53)
register_nav("Audit log", "dpo.audit_log", {"dpo"}, 54)

from decision_aid.dpo import views  # noqa: E402,F401
