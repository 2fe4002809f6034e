"""Sign-in, sign-out and session handling."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from decision_aid.auth import views  # noqa: E402,F401
