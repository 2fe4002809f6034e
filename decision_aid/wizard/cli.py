"""`flask drafts purge`: delete drafts abandoned for longer than the organisation allows."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from decision_aid import clock

drafts_cli = AppGroup("drafts", help="Manage wizard drafts.")


@drafts_cli.command("purge")
def purge_command() -> None:
    """Delete drafts not touched within the organisation's draft retention period."""
    from decision_aid.wizard.service import purge_abandoned_drafts

    count = purge_abandoned_drafts(clock.now())
    click.echo(f"Deleted {count} abandoned draft{'s' if count != 1 else ''}.")


def register_cli(app: Flask) -> None:
    """Attach the drafts group to the app's CLI (called from decision_aid.cli.register)."""
    if "drafts" not in app.cli.commands:
        app.cli.add_command(drafts_cli)
