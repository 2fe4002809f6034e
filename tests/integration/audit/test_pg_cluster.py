"""PostgreSQL crashes and outages, on a throwaway cluster (never the shared server): T20, T21.

* kill -9 of the whole server while 4 writers append: after the restart every append whose
  commit was acknowledged is there and the chain verifies;
* the web app answers 503 (a page, not a traceback) while the server is down and serves again
  once it is back, without being restarted.
"""

from __future__ import annotations

import multiprocessing as mp
import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from decision_aid.audit.verify import verify_connection
from tests.fixtures_db import migrate_to_head
from tests.fixtures_pgcluster import PgCluster
from tests.integration.audit.writers import acknowledging_writer

WRITERS = 4
CRASHES = 3


@pytest.fixture
def cluster_db(pg_cluster: PgCluster, tmp_path: Path) -> Iterator[str]:
    """A migrated database on the throwaway cluster; yields its URL."""
    engine = create_engine(pg_cluster.url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text('CREATE DATABASE "decision_aid"'))
    engine.dispose()
    url = pg_cluster.url("decision_aid")
    migrate_to_head(url, tmp_path)
    yield url


def _acks(path: Path) -> list[tuple[int, int, int]]:
    """(run, n, seq) of every acknowledged append."""
    text_ = path.read_text() if path.exists() else ""
    return [tuple(map(int, line.split()[1:])) for line in text_.splitlines()
            if line.startswith("ack ")]


def _wait_for_acks(path: Path, at_least: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while len(_acks(path)) < at_least:
        if time.monotonic() > deadline:
            raise AssertionError(f"writers acknowledged fewer than {at_least} appends")
        time.sleep(0.005)


def _crash_while_writing(cluster: PgCluster, url: str, ack_file: Path, crash: int,
                         rng: random.Random) -> None:
    """Start 4 writers, let them acknowledge a random number of appends, kill -9 the server."""
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["tests.integration.audit.writers", "decision_aid.audit"])
    writers = [ctx.Process(target=acknowledging_writer, args=(url, crash * WRITERS + w,
                                                                str(ack_file)))
               for w in range(WRITERS)]
    for writer in writers:
        writer.start()
    _wait_for_acks(ack_file, len(_acks(ack_file)) + rng.randint(10, 60))
    time.sleep(rng.uniform(0.0, 0.02))
    cluster.kill_9()
    for writer in writers:  # each loses its connection and stops with an error
        writer.join(timeout=30)
        if writer.is_alive():
            writer.kill()
            writer.join()
        assert writer.exitcode != 0


@pytest.mark.slow
def test_kill_9_of_the_server_loses_no_acknowledged_append(pg_cluster, cluster_db, tmp_path):
    seed = random.randrange(2**32)
    rng, ack_file = random.Random(seed), tmp_path / "acks.log"
    for crash in range(CRASHES):
        _crash_while_writing(pg_cluster, cluster_db, ack_file, crash, rng)
        assert pg_cluster.postmaster_pid() is None
        pg_cluster.start()  # crash recovery replays the WAL
    acked = _acks(ack_file)
    assert len(acked) >= CRASHES * 10, f"seed {seed}"
    engine = create_engine(cluster_db)
    with engine.connect() as conn, conn.begin():
        rows = dict(conn.execute(text("SELECT seq, decision_ref FROM audit_event")).all())
        lost = [seq for run, _, seq in acked if rows.get(seq) != f"DA-K{run}"]
        assert not lost, f"acknowledged appends lost: {lost[:10]} (seed {seed})"
        assert sorted(rows) == list(range(1, len(rows) + 1))
        result = verify_connection(conn)
    engine.dispose()
    assert result.ok, result.summary()
    assert result.checked == len(rows) >= len(acked)


def _app_on(url: str, tmp_path: Path) -> Flask:
    from decision_aid import create_app
    from decision_aid.cli import ensure_organisation
    from tests.conftest import base_config

    app = create_app(base_config(url, tmp_path))
    with app.app_context():
        ensure_organisation("Test Safeguarding Partnership")
    return app


def test_the_app_answers_503_while_the_server_is_down_and_recovers(pg_cluster, cluster_db,
                                                                    tmp_path):
    from decision_aid.extensions import db

    app = _app_on(cluster_db, tmp_path)
    client = app.test_client()
    assert client.get("/sign-in").status_code == 200  # pooled connections now exist
    pg_cluster.stop("immediate")
    down = client.get("/sign-in")
    assert down.status_code == 503
    page = down.get_data(as_text=True)
    assert "unavailable" in page.lower()
    assert "Traceback" not in page and "psycopg" not in page and "OperationalError" not in page
    assert client.get("/healthz").status_code == 503
    pg_cluster.start()
    assert client.get("/sign-in").status_code == 200  # same app, same pool: no restart
    assert client.get("/healthz").status_code == 200
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
