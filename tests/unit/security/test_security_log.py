"""Security events are single JSON lines and can be forwarded to a separate syslog host."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from decision_aid import create_app
from decision_aid.logs import security_event


def test_security_events_are_forwarded_to_syslog(tmp_path: Path) -> None:
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    port = receiver.getsockname()[1]
    app = create_app({"DEPLOYMENT": "test", "SECRET_KEY": "k" * 40,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite3'}",
                      "SECURITY_LOG_SYSLOG": f"127.0.0.1:{port}"})
    try:
        with app.test_request_context("/sign-in"):
            security_event("sign_in", outcome="failure", reason="bad\r\ncredentials")
        datagram = receiver.recv(4096).decode()
    finally:
        receiver.close()
        from decision_aid.logs import security_log
        for handler in list(security_log.handlers):
            if type(handler).__name__ == "SysLogHandler":
                security_log.removeHandler(handler)
                handler.close()
    payload = json.loads(datagram[datagram.index("{"):].rstrip("\x00"))
    assert payload["event"] == "sign_in" and payload["outcome"] == "failure"
    assert "\n" not in datagram.rstrip("\x00\n")  # CR/LF in values stay escaped
