"""Operations for the DPO and IT: rule governance, subject access, complaints, keys, retention, backup.

The blueprint has no CLI group of its own (`cli_group=None`), so its commands appear at the top
level: `flask keys ...`, `flask retention run`, `flask backup ...` (docs/operations.md).
"""

from flask import Blueprint

from decision_aid.navigation import register_nav

bp = Blueprint("operations", __name__, url_prefix="/dpo/operations", cli_group=None)
register_nav("Operations", "operations.index", {"dpo"}, 55)

from decision_aid.operations import banners, cli, views  # noqa: E402,F401
