"""The signed-in user's own account: sessions, password, authenticator app, step-up, keep-alive."""

from flask import Blueprint

from decision_aid.models import Role
from decision_aid.navigation import register_nav

bp = Blueprint("account", __name__, url_prefix="/account")

register_nav("Your account", "account.overview", {r.value for r in Role}, 90)

from decision_aid.account import views  # noqa: E402,F401
