"""A throwaway PostgreSQL cluster for tests that must stop, crash or break the database.

The shared server in DECISION_AID_TEST_DATABASE_URL serves every other test (and other people),
so it is never stopped. These tests get their own cluster instead: `initdb` into a temporary
directory as the `postgres` user, `pg_ctl start` on a free 127.0.0.1 port with its Unix socket in
that directory and `fsync=on` (durability is what they test), and stop-and-remove afterwards.

Skipped, with the reason, unless DECISION_AID_TEST_DATABASE_URL is set (CI sets it: PostgreSQL is
expected there), we run as root (to act as `postgres`) and the binaries are installed.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_BIN = Path(os.environ.get("DECISION_AID_PG_BIN", "/usr/lib/postgresql/15/bin"))
START_TIMEOUT = 60  # seconds; crash recovery after kill -9 is part of a start


def _skip_reason() -> str | None:
    """Why a throwaway cluster cannot be made here (None when it can)."""
    if not os.environ.get("DECISION_AID_TEST_DATABASE_URL"):
        return "PostgreSQL tests are off (DECISION_AID_TEST_DATABASE_URL is not set)"
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        return f"no PostgreSQL server binaries in {PG_BIN}"
    if os.geteuid() != 0:
        return "a throwaway cluster needs root, to run initdb and pg_ctl as the postgres user"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "no postgres system user"
    if shutil.which("runuser") is None:
        return "runuser is not installed"
    return None


def _as_postgres(*command: str, timeout: float = START_TIMEOUT) -> str:
    """Run a server binary as the postgres user; a failure shows its output, not just a code."""
    done = subprocess.run(  # fixed binaries, arguments from this module
        ["runuser", "-u", "postgres", "--", *command],
        capture_output=True, text=True, timeout=timeout, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{Path(command[0]).name} failed: {done.stderr or done.stdout}")
    return done.stdout


def free_port() -> int:
    """A port nothing listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PgCluster:
    """One cluster in `root` (data/, sock/, server.log), listening on 127.0.0.1:`port`."""

    root: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL (trust authentication as postgres, TCP on loopback)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """Start and wait until it accepts connections (after a crash: once recovery is done).

        The postmaster runs in the foreground under `runuser`, our child: runuser reaps it when
        it dies (this container's init reaps nothing), so a killed postmaster leaves no zombie
        whose pid would make the next start think the old server still runs.
        """
        options = ["-p", str(self.port), "-k", str(self.root / "sock"),
                   "-c", "listen_addresses=127.0.0.1", "-c", "fsync=on",
                   "-c", "synchronous_commit=on", "-c", "full_page_writes=on",
                   "-c", "shared_buffers=16MB", "-c", "max_connections=40"]
        with open(self.root / "server.log", "ab") as log:
            self.process = subprocess.Popen(  # fixed binary, arguments from this module
                ["runuser", "-u", "postgres", "--", str(PG_BIN / "postgres"),
                 "-D", str(self.data), *options],
                stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not self._accepts_connections():
            if self.process.poll() is not None or time.monotonic() > deadline:
                log_tail = (self.root / "server.log").read_text()[-2000:]
                raise RuntimeError(f"the throwaway PostgreSQL did not start:\n{log_tail}")
            time.sleep(0.1)

    def _accepts_connections(self) -> bool:
        ready = subprocess.run(
            [str(PG_BIN / "pg_isready"), "-q", "-h", "127.0.0.1",
             "-p", str(self.port), "-U", "postgres"], check=False,
        )
        return ready.returncode == 0

    def stop(self, mode: str = "fast") -> None:
        """pg_ctl stop (`immediate` is a crash-like stop; recovery runs at the next start)."""
        _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")
        self._reap()

    def _reap(self) -> None:
        if self.process is not None:
            self.process.wait(timeout=30)
            self.process = None

    def postmaster_pid(self) -> int | None:
        """The running postmaster's pid, from postmaster.pid (None when it is not running)."""
        pid_file = self.data / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) else None

    def kill_9(self) -> None:
        """SIGKILL the postmaster, then each of its server processes: a crash of the server.

        Only the postmaster's own children are killed, each by its pid. Killing the children
        too matters: a backend orphaned by its postmaster can finish a commit on its own, and
        would hold the shared memory that the restart needs.
        """
        pid = self.postmaster_pid()
        assert pid is not None, "the cluster is not running"
        children = _children_of(pid)
        os.kill(pid, signal.SIGKILL)
        for child in children + _children_of(pid):
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._reap()  # runuser returns once the postmaster is gone
        deadline = time.monotonic() + 10
        while any(_alive(p) for p in children) and time.monotonic() < deadline:
            time.sleep(0.02)


def _children_of(parent: int) -> list[int]:
    """Pids whose parent is `parent` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if int(fields[1]) == parent:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    """Running and not a zombie (a killed child of ours lingers as one until reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def pg_cluster() -> Iterator[PgCluster]:
    """A started throwaway cluster, stopped and removed afterwards (even after a crash)."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="da-pgcluster-"))
    cluster: PgCluster | None = None
    try:
        (root / "sock").mkdir()
        postgres = pwd.getpwnam("postgres")
        for path in (root, root / "sock"):
            os.chown(path, postgres.pw_uid, postgres.pw_gid)
        _as_postgres(
            str(PG_BIN / "initdb"), "-D", str(root / "data"), "-U", "postgres",
            "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions",
        )
        cluster = PgCluster(root, free_port())
        cluster.start()
        yield cluster
    finally:
        if cluster is not None and cluster.postmaster_pid() is not None:
            cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
