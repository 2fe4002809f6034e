"""A live server on 127.0.0.1 for the browser tests: its own migrated SQLite file, seeded data,
a clock the tests can move, and werkzeug's threaded server in a background thread."""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from tests.browser.world import World, seed_world


class RunningClock:
    """Real time plus an offset the tests can advance (FakeClock's interface, but time moves, so
    a live server behaves normally and TOTP codes, audit times and orderings stay realistic)."""

    def __init__(self) -> None:
        self.offset = dt.timedelta()

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset

    def advance(self, **kwargs: float) -> None:
        self.offset += dt.timedelta(**kwargs)


@dataclass
class LiveServer:
    """A running app: `url` is http://127.0.0.1:<port>."""

    app: Flask
    url: str
    clock: RunningClock
    world: World
    server: BaseWSGIServer
    thread: threading.Thread

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        from decision_aid.extensions import db

        with self.app.app_context():
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()

    def __call__(self, path: str) -> str:
        return self.url + path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def migrated_sqlite(tmp: Path, template: Path | None = None) -> str:
    """A migrated SQLite file in tmp (copied from a template when one is given)."""
    from tests.fixtures_db import migrate_to_head

    path = tmp / "live.sqlite3"
    if template is not None and template.exists():
        shutil.copyfile(template, path)
    else:
        migrate_to_head(f"sqlite:///{path}", tmp)
    return f"sqlite:///{path}"


def build_app(tmp: Path, template: Path | None = None, **overrides: Any) -> tuple[Flask, RunningClock, World, int]:
    """The app with test settings (CSRF on), a running clock and the seeded world."""
    from decision_aid import create_app
    from tests.conftest import base_config

    port = free_port()
    config = base_config(migrated_sqlite(tmp, template), tmp)
    config.update(SERVER_NAME=f"127.0.0.1:{port}", TESTING=False, **overrides)
    app = create_app(config)
    clock = RunningClock()
    app.extensions["clock"] = clock
    world = seed_world(app)
    return app, clock, world, port


def start_live_server(tmp: Path, template: Path | None = None, **overrides: Any) -> LiveServer:
    """Build, seed and serve; call .stop() when done."""
    app, clock, world, port = build_app(tmp, template, **overrides)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=f"live-server-{port}", daemon=True)
    thread.start()
    return LiveServer(app=app, url=f"http://127.0.0.1:{port}", clock=clock, world=world,
                      server=server, thread=thread)
