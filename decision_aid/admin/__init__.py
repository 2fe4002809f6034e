"""Admin area: users, teams and the organisation's settings (no access to decision content)."""

from flask import Blueprint

from decision_aid.navigation import register_nav

bp = Blueprint("admin", __name__, url_prefix="/admin")
register_nav("Users", "admin.list_users", {"admin"}, 80)
register_nav("Teams", "admin.list_teams", {"admin"}, 81)
register_nav("Organisation settings", "admin.edit_settings", {"admin"}, 82)

from decision_aid.admin import views  # noqa: E402,F401
