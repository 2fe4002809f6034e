"""Structured security log lines: one JSON object per event, nothing personal (quality-targets T12).

Never pass passwords, tokens, TOTP codes or free-text case content here: only ids and outcomes.
"""

from __future__ import annotations

import json
import logging
from logging.handlers import SysLogHandler
from typing import Any

from flask import Flask, has_request_context, request
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


def init_logging(app: Flask) -> None:
    """Send security events to standard error and, when configured, to a separate syslog host.

    Forwarding (ASVS 16.4.3) keeps a copy outside the app server, so someone who takes over the
    server cannot quietly erase the trail. SECURITY_LOG_SYSLOG is "host:port" (UDP) or a socket
    path such as /dev/log.
    """
    security_log.setLevel(logging.INFO)
    if not any(getattr(h, "_decision_aid", False) for h in security_log.handlers):
        _add_handler(logging.StreamHandler())
    target = app.config.get("SECURITY_LOG_SYSLOG")
    if target and not any(isinstance(h, SysLogHandler) for h in security_log.handlers):
        _add_handler(SysLogHandler(address=_syslog_address(str(target))))


def _add_handler(handler: logging.Handler) -> None:
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler._decision_aid = True  # type: ignore[attr-defined]
    security_log.addHandler(handler)


def _syslog_address(target: str) -> str | tuple[str, int]:
    host, sep, port = target.rpartition(":")
    if sep and port.isdigit() and not target.startswith("/"):
        return host, int(port)
    return target
