"""Structured security log lines: one JSON object per event, nothing personal (quality-targets T12).

Never pass passwords, tokens, TOTP codes or free-text case content here: only ids and outcomes.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from decision_aid import clock

security_log = logging.getLogger("decision_aid.security")


def security_event(event: str, *, outcome: str, **fields: Any) -> None:
    """Log one security event as a single JSON line (CR/LF cannot start a new line in JSON)."""
    record: dict[str, Any] = {
        "ts": clock.now().isoformat(timespec="milliseconds"),
        "event": event,
        "outcome": outcome,
    }
    if has_request_context():
        record["ip"] = request.remote_addr
        record["path"] = request.path
        if current_user and current_user.is_authenticated:
            record["actor"] = current_user.get_id()
    record.update({k: v for k, v in fields.items() if v is not None})
    security_log.info(json.dumps(record, sort_keys=True, default=str))
