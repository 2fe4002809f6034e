"""Home page per role, health check, and static information pages."""

from flask import Blueprint

bp = Blueprint("main", __name__)

from decision_aid.main import views  # noqa: E402,F401
