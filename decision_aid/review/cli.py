"""`flask review sweep` and `flask review notify` (for a scheduler)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from decision_aid.extensions import db
from decision_aid.review import bp

bp.cli.short_help = "Review queue housekeeping and reminders."


@bp.cli.command("sweep")
@with_appcontext
def sweep_command() -> None:
    """Give decisions inserted around the ORM (bulk loads) their review state."""
    from decision_aid.review.sampling import sweep

    click.echo(f"{sweep(db.session())} decisions sampled for review")  # the scope's Session


@bp.cli.command("notify")
@with_appcontext
def notify_command() -> None:
    """Email each supervisor how many decisions await their review (needs SMTP_HOST)."""
    from decision_aid.review.notify import send_reminders

    click.echo(f"{send_reminders()} reminder emails sent")
