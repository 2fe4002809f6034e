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


def _count(path: Path, marker: str) -> int:
    return path.read_text().count(marker) if path.exists() else 0


def _wait_for(path: Path, marker: str, times: int = 1, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while _count(path, marker) < times:
        if time.monotonic() > deadline:
            raise AssertionError(f"writer never wrote {marker!r} {times} times")
        time.sleep(0.002)


def _kill_runs(url: str, ack_file: Path, runs: int, rng: random.Random) -> int:
    """Start a writer, let it acknowledge a random number of events, then SIGKILL it at a random
    moment (often mid-transaction); `runs` times. Returns the acknowledgements waited for."""
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["tests.integration.audit.writers", "decision_aid.audit"])
    waited = 0
    for run in range(runs):
        process = ctx.Process(target=acknowledging_writer, args=(url, run, str(ack_file)))
        process.start()
        _wait_for(ack_file, f"ready {run}\n")
        target = rng.randint(0, 6)
        _wait_for(ack_file, f"ack {run} ", times=target)
        waited += target
        time.sleep(rng.uniform(0.0, 0.01))
        os.kill(process.pid, signal.SIGKILL)
        process.join()
        assert process.exitcode == -signal.SIGKILL
    return waited


def _acknowledged(ack_file: Path) -> list[tuple[int, int, int]]:
    lines = ack_file.read_text().splitlines()
    return [tuple(map(int, line.split()[1:])) for line in lines if line.startswith("ack ")]


@pytest.mark.slow
def test_kill_9_loses_no_acknowledged_event(app_ctx, database_url, tmp_path) -> None:
    seed = random.randrange(2**32)
    ack_file = tmp_path / "acks.log"
    waited = _kill_runs(database_url, ack_file, KILL_RUNS, random.Random(seed))
    db.session.remove()
    acked = _acknowledged(ack_file)
    assert len(acked) >= waited > 0, f"seed {seed}"
    for run, n, seq in acked:
        event = db.session.get(AuditEvent, seq)
        assert event is not None, f"acknowledged seq {seq} lost (seed {seed})"
        assert json.loads(event.payload)["with"]["data"] == {"run": run, "n": n}
    assert_gapless_and_fork_free()
    assert audit.verify_chain().ok
    if database_url.startswith("sqlite"):
        assert db.session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
