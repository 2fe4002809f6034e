"""The decision aid's Flask application factory."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: config, extensions, templates, rule set, blueprints, errors, CLI, headers."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder="static",
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from decision_aid import config, errors, security, setup, templating

    config.load_config(app, overrides)
    setup.init_extensions(app)
    templating.init_templates(app)
    setup.load_rules(app)
    setup.register_blueprints(app)
    errors.register_error_handlers(app)
    setup.register_cli(app)
    security.init_security(app)
    return app
