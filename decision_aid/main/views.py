"""The landing page each role sees after signing in, and the public health check."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import text
from werkzeug.wrappers import Response

from decision_aid.auth.access import public
from decision_aid.extensions import db
from decision_aid.main import bp


@bp.route("/")
@public
def home() -> str | Response:
    """Signed out: the sign-in page. Signed in: a page fitting the user's role."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.sign_in"))
    return render_template("main/home.html", user=current_user)


@bp.route("/healthz")
@public
def healthz() -> tuple[str, int, dict[str, str]]:
    """Liveness and database reachability for a load balancer; returns no data."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        db.session.rollback()
        return "unavailable", 503, {"Content-Type": "text/plain"}
    return "ok", 200, {"Content-Type": "text/plain"}


@bp.route("/about")
@public
def about() -> str:
    """What the tool does and does not do."""
    return render_template("main/about.html")


@bp.route("/accessibility")
@public
def accessibility() -> str:
    """Accessibility statement in the form the 2018 regulations prescribe."""
    return render_template("main/accessibility.html")
