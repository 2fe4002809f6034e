"""The app factory's steps, each small and named (Notify's pattern), so create_app stays readable."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from decision_aid.extensions import csrf, db, login_manager, migrate


def init_extensions(app: Flask) -> None:
    """Bind the unbound extensions and the server-side session store."""
    from decision_aid import database  # noqa: F401  (registers SQLite pragmas and BEGIN hooks)
    from decision_aid.auth.sessions import DatabaseSessionInterface
    from decision_aid.organisation import load_organisation

    db.init_app(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Sign in to continue."
    login_manager.session_protection = None  # our session table already binds the session
    app.session_interface = DatabaseSessionInterface()
    app.before_request(load_organisation)
    proxies = int(app.config["TRUSTED_PROXIES"])
    if proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )


def _migrations_dir() -> object:
    from decision_aid import ROOT

    return ROOT / "migrations"


def load_rules(app: Flask) -> None:
    """Load and validate the rule set once at start-up; a broken rule set stops the app."""
    import rules

    app.extensions["ruleset"] = rules.load_ruleset()


def register_blueprints(app: Flask) -> None:
    """One blueprint per area (imported here so importing the package stays cheap)."""
    from decision_aid import account, admin, auth, dpo, main, operations, records, review, wizard

    for area in (main, auth, account, admin, wizard, records, review, dpo, operations):
        app.register_blueprint(area.bp)


def register_cli(app: Flask) -> None:
    """Flask CLI commands: create-user, seed-demo, and the audit group."""
    from decision_aid import cli

    cli.register(app)
