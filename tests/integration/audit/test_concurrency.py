"""Concurrent writers never fork or leave gaps (T16); kill -9 loses no acknowledged event (T20)."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import random
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text

from decision_aid import audit
from decision_aid.audit.chain import GENESIS_HASH
from decision_aid.extensions import db
from decision_aid.models import AuditEvent
from tests.integration.audit.writers import acknowledging_writer, append_worker

WRITERS, APPENDS = 4, 500
KILL_RUNS = int(os.environ.get("AUDIT_KILL_RUNS", "50"))


def _chain_rows() -> list[tuple[int, str, str]]:
    columns = (AuditEvent.seq, AuditEvent.prev_hash, AuditEvent.entry_hash)
    stmt = select(*columns).order_by(AuditEvent.seq)
    return [tuple(row) for row in db.session.execute(stmt)]


def assert_gapless_and_fork_free(expected: int | None = None) -> list[tuple[int, str, str]]:
    """seq is exactly 1..N, every prev_hash is its predecessor's hash, and no prev_hash repeats."""
    rows = _chain_rows()
    if expected is not None:
        assert len(rows) == expected
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    assert [r[1] for r in rows] == [GENESIS_HASH] + [r[2] for r in rows[:-1]]
    assert len({r[1] for r in rows}) == len(rows)
    return rows


@pytest.mark.slow
def test_four_writers_leave_a_gapless_fork_free_chain(app_ctx, database_url) -> None:
    ctx = mp.get_context("spawn")
    with ctx.Pool(WRITERS) as pool:
        jobs = [(database_url, APPENDS, w) for w in range(WRITERS)]
        latencies = pool.starmap(append_worker, jobs)
    assert [len(run) for run in latencies] == [APPENDS] * WRITERS
    assert_gapless_and_fork_free(WRITERS * APPENDS)
    for writer in range(WRITERS):
        count = db.session.query(AuditEvent).filter_by(decision_ref=f"DA-W{writer}").count()
        assert count == APPENDS
    assert audit.verify_chain().ok


def _wait_for(path: Path, marker: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and marker in path.read_text():
            return
        time.sleep(0.005)
    raise AssertionError(f"writer never wrote {marker!r}")


def _kill_runs(url: str, ack_file: Path, runs: int, rng: random.Random) -> None:
    """Start a writer, let it run for a random moment, SIGKILL it; `runs` times."""
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["tests.integration.audit.writers", "decision_aid.audit"])
    for run in range(runs):
        process = ctx.Process(target=acknowledging_writer, args=(url, run, str(ack_file)))
        process.start()
        _wait_for(ack_file, f"ready {run}\n")
        time.sleep(rng.uniform(0.0, 0.12))
        os.kill(process.pid, signal.SIGKILL)
        process.join()
        assert process.exitcode == -signal.SIGKILL


def _acknowledged(ack_file: Path) -> list[tuple[int, int, int]]:
    lines = ack_file.read_text().splitlines()
    return [tuple(map(int, line.split()[1:])) for line in lines if line.startswith("ack ")]


@pytest.mark.slow
def test_kill_9_loses_no_acknowledged_event(app_ctx, database_url, tmp_path) -> None:
    seed = random.randrange(2**32)
    ack_file = tmp_path / "acks.log"
    _kill_runs(database_url, ack_file, KILL_RUNS, random.Random(seed))
    db.session.remove()
    acked = _acknowledged(ack_file)
    assert len(acked) > KILL_RUNS, f"writers acknowledged too little to test (seed {seed})"
    for run, n, seq in acked:
        event = db.session.get(AuditEvent, seq)
        assert event is not None, f"acknowledged seq {seq} lost (seed {seed})"
        assert json.loads(event.payload)["with"]["data"] == {"run": run, "n": n}
    assert_gapless_and_fork_free()
    assert audit.verify_chain().ok
    if database_url.startswith("sqlite"):
        assert db.session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
