"""Access to the single organisation row that one deployment serves."""

from __future__ import annotations

from flask import abort, g
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from decision_aid.extensions import db
from decision_aid.models import Organisation


def current_organisation(required: bool = True) -> Organisation | None:
    """The deployment's organisation, cached per request; 503 if none has been set up."""
    if "organisation" not in g:
        try:
            g.organisation = db.session.scalars(select(Organisation).limit(1)).first()
        except SQLAlchemyError:
            if required:
                raise
            g.organisation = None
    if g.organisation is None and required:
        abort(503)
    return g.organisation


def load_organisation() -> None:
    """Before each request: fail fast with a 503 when the database cannot be reached."""
    from flask import request

    if request.endpoint in {"static", "main.healthz"}:
        return
    if "organisation" not in g:
        g.organisation = db.session.scalars(select(Organisation).limit(1)).first()
