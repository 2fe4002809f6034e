"""`make soak`: a bounded soak of the full practitioner journey (issue 11 item 3, target T28).

Starts gunicorn (sync, 2 workers, production settings, bench hello route) on 127.0.0.1 with a
throwaway SQLite database, then runs N simulated practitioners (threads, each its own session)
for the given minutes, each repeating the journey: sign in; start page; new decision (CSRF);
every question page (GET, then POST the answers); check your answers; recommendation; decision
(POST); confirmation; list of decisions; a PDF of the record every 20th journey; sign out.

Before the clock starts, two warm-up users (not counted) make a decision each and download its
PDF side by side, so each sync worker has rendered a PDF once (WeasyPrint's one-off font and
cache load). Every 10 s it samples the resident memory of each gunicorn worker (psutil).
Afterwards it stops the server and runs `flask audit verify` on the same database. Passes when:
no 5xx response, no other failed step, the audit chain verifies, and worker RSS grows at most 10%
between minute 2 and the end (minute 10 in the full run), each end being the median of the
worker's samples in a one-minute window (a sample taken mid-render reads 50-60 MiB high).
Writes bench/results/soak.json and the soak section of docs/performance.md; exits 1 when a check
fails.

    .venv/bin/python bench/soak.py                   # 10 minutes, 20 practitioners
    .venv/bin/python bench/soak.py --minutes 2       # a trial (RSS: minute 0.4 to 2)
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402
from bench.common import Http, loadavg, percentile  # noqa: E402

QUESTION_RE = re.compile(r"/decisions/drafts/[0-9a-f-]{36}/questions/[a-z_]+$")
CONFIRMATION_RE = re.compile(r"/decisions/([0-9a-f-]{36})/confirmation$")
RADIO_RE = re.compile(r'name="([a-z_]+)" type="radio"')
DOC = ROOT / "docs" / "performance.md"
SAMPLE_EVERY = 10.0
PDF_EVERY = 20


class StepFailed(Exception):
    """A step answered with something other than what a browser would expect."""


class Stats:
    """Per-step latencies and statuses from every thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.steps: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.statuses: dict[int, int] = {}
        self.failures: list[str] = []
        self.journeys = 0
        self.pdfs = 0

    def record(self, step: str, status: int, seconds: float, ok: bool) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if ok:
                self.steps.setdefault(step, []).append(seconds * 1000)
            else:
                self.errors[step] = self.errors.get(step, 0) + 1


class Practitioner:
    """One simulated practitioner going through the whole journey again and again."""

    def __init__(self, base: str, email: str, stats: Stats, counter: itertools.count[int]) -> None:
        self.base, self.email, self.stats, self.counter = base, email, stats, counter

    def call(
        self,
        http: Http,
        step: str,
        method: str,
        path: str,
        form: dict[str, Any] | None = None,
        expect: int = 200,
    ) -> tuple[dict[str, str], str]:
        began = time.monotonic()
        try:
            status, headers, body = http.request(method, path, form)
        except OSError as exc:
            self.stats.record(step, -1, time.monotonic() - began, False)
            raise StepFailed(f"{step}: {exc!r}") from exc
        ok = status == expect
        self.stats.record(step, status, time.monotonic() - began, ok)
        if not ok:
            raise StepFailed(f"{step}: {method} {path} -> {status}")
        return headers, body.decode("utf-8", "replace") if not body.startswith(b"%PDF") else ""

    def sign_in(self, http: Http) -> None:
        _, page = self.call(http, "sign-in page", "GET", "/sign-in")
        self.call(
            http,
            "sign in (POST)",
            "POST",
            "/sign-in",
            {"email": self.email, "password": common.PASSWORD, "csrf_token": token(page)},
            expect=302,
        )

    def journey(self, number: int) -> str:
        """The whole journey once; the new decision's id."""
        from tests.integration.wizard.scenarios import SHARE_ALL, answers_for

        answers = answers_for("lawful_to_share")
        http = Http(self.base)
        self.sign_in(http)
        self.call(http, "start page", "GET", "/decisions/start")
        _, page = self.call(http, "new decision page", "GET", "/decisions/new")
        today = dt.date.today()
        headers, _ = self.call(
            http,
            "new decision (POST)",
            "POST",
            "/decisions/new",
            {
                "case_ref": f"CASE-{number % 100000:05d}",
                "as_at": [str(today.day), str(today.month), str(today.year)],
                "csrf_token": token(page),
            },
            expect=302,
        )
        url = path_of(headers)
        while QUESTION_RE.search(url):
            _, page = self.call(http, "question page", "GET", url)
            facts = list(dict.fromkeys(RADIO_RE.findall(page)))
            headers, _ = self.call(
                http,
                "answer (POST)",
                "POST",
                url,
                {**{f: answers[f] for f in facts}, "csrf_token": token(page)},
                expect=302,
            )
            url = path_of(headers)
        draft = url.split("/drafts/")[1].split("/")[0]
        self.call(
            http, "check your answers", "GET", f"/decisions/drafts/{draft}/check-your-answers"
        )
        self.call(http, "recommendation", "GET", f"/decisions/drafts/{draft}/recommendation")
        _, page = self.call(http, "decision page", "GET", f"/decisions/drafts/{draft}/decision")
        shared_on = [str(today.day), str(today.month), str(today.year)]
        headers, _ = self.call(
            http,
            "decision (POST)",
            "POST",
            f"/decisions/drafts/{draft}/decision",
            {**SHARE_ALL, "shared_on": shared_on, "csrf_token": token(page)},
            expect=302,
        )
        match = CONFIRMATION_RE.search(path_of(headers))
        if match is None:
            raise StepFailed(f"decision: redirected to {path_of(headers)}")
        self.call(http, "confirmation", "GET", path_of(headers))
        _, page = self.call(http, "decision list", "GET", "/decisions")
        if number % PDF_EVERY == 0:
            self.call(http, "record PDF", "GET", f"/decisions/{match.group(1)}/record.pdf")
            with self.stats.lock:
                self.stats.pdfs += 1
        self.call(
            http, "sign out (POST)", "POST", "/sign-out", {"csrf_token": token(page)}, expect=302
        )
        with self.stats.lock:
            self.stats.journeys += 1
        return match.group(1)

    def warm_up(self, barrier: threading.Barrier, rounds: int = 2) -> None:
        """One journey, then PDFs downloaded at the same moment as the other warm-up users: with
        sync workers, simultaneous requests go to different workers, so every worker has loaded
        WeasyPrint's fonts and caches (a one-off 15-20 MiB) before the memory window opens."""
        decision = self.journey(PDF_EVERY)
        http = Http(self.base)
        self.sign_in(http)
        for _ in range(rounds):
            barrier.wait(timeout=300)
            self.call(http, "record PDF", "GET", f"/decisions/{decision}/record.pdf")

    def run(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            try:
                self.journey(next(self.counter))
            except StepFailed as exc:
                with self.stats.lock:
                    if len(self.stats.failures) < 20:
                        self.stats.failures.append(str(exc))
                time.sleep(0.5)


def warm_up(base: str, emails: list[str]) -> dict[str, Any]:
    """Before the clock starts, one warm-up user per worker (not counted in the soak's figures):
    the first PDF a worker renders loads fonts and caches once, and a worker that rendered its
    first PDF only after minute 2 showed that one-off load as growth (13.5% in the first
    10-minute run, flat from minute 4 on)."""
    barrier = threading.Barrier(len(emails))
    stats = Stats()
    users = [Practitioner(base, email, stats, itertools.count(1)) for email in emails]
    failures: list[str] = []

    def run(user: Practitioner) -> None:
        try:
            user.warm_up(barrier)
        except (StepFailed, threading.BrokenBarrierError) as exc:
            failures.append(str(exc))
            barrier.abort()

    threads = [threading.Thread(target=run, args=(u,), daemon=True) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    return {
        "users": len(emails),
        "pdfs": len(stats.steps.get("record PDF", [])),
        "failures": failures[:5],
    }


def token(page: str) -> str:
    match = common.CSRF_RE.search(page)
    if match is None:
        raise StepFailed("no CSRF token on the page")
    return match.group(1)


def path_of(headers: dict[str, str]) -> str:
    location = headers.get("location", "")
    return re.sub(r"^https?://[^/]+", "", location)


def sample_memory(
    server: common.Server, began: float, samples: list[dict[str, Any]], stop: threading.Event
) -> None:
    while not stop.is_set():
        row = {
            "minute": round((time.monotonic() - began) / 60, 2),
            "load_avg": loadavg(),
            "workers": {},
        }
        for worker in server.workers():
            try:
                row["workers"][str(worker.pid)] = round(worker.memory_info().rss / 2**20, 1)
            except Exception:  # a worker may be restarting
                continue
        samples.append(row)
        stop.wait(SAMPLE_EVERY)


def memory_growth(samples: list[dict[str, Any]], minutes: float) -> dict[str, Any]:
    """Per-worker RSS growth between minute 2 (or 20% into a short run) and the end of the run.

    Each end is the median of that worker's samples in a window (minute 2 +/- 0.5; the last
    minute), not a single sample: a sample taken while a worker renders a PDF reads 50-60 MiB
    above its resting size and would decide the check on its own.
    """
    start_minute = 2.0 if minutes >= 4 else round(minutes * 0.2, 2)
    half = 0.5 if minutes >= 4 else round(minutes * 0.1, 2)
    if len(samples) < 2:
        return {"from_minute": start_minute, "to_minute": None, "workers": [], "max_growth": None}
    last_minute = samples[-1]["minute"]
    first = [s for s in samples if abs(s["minute"] - start_minute) <= half] or [
        min(samples, key=lambda s: abs(s["minute"] - start_minute))
    ]
    last = [s for s in samples if s["minute"] >= last_minute - 2 * half]
    workers = []
    for pid in first[-1]["workers"]:
        before = _median_rss(first, pid)
        after = _median_rss(last, pid)
        if after is not None and before:
            workers.append(
                {
                    "pid": int(pid),
                    "from_mib": before,
                    "to_mib": after,
                    "growth": round(after / before - 1, 4),
                    "single_sample_growth": _single(samples, pid, start_minute),
                }
            )
    return {
        "from_minute": start_minute,
        "to_minute": last_minute,
        "window_minutes": half * 2,
        "workers": workers,
        "max_growth": max((w["growth"] for w in workers), default=None),
        "replaced_workers": sorted(set(samples[-1]["workers"]) ^ set(first[-1]["workers"])),
    }


def _median_rss(samples: list[dict[str, Any]], pid: str) -> float | None:
    values = [s["workers"][pid] for s in samples if pid in s["workers"]]
    return round(statistics.median(values), 1) if values else None


def _single(samples: list[dict[str, Any]], pid: str, start_minute: float) -> float | None:
    """The old reading, one sample at each end (kept in soak.json for comparison)."""
    first = min(samples, key=lambda s: abs(s["minute"] - start_minute))["workers"].get(pid)
    last = samples[-1]["workers"].get(pid)
    return round(last / first - 1, 4) if first and last else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument(
        "--deployment", default="production", choices=("production", "test", "development")
    )
    parser.add_argument(
        "--warm-up-users",
        type=int,
        default=2,
        help="users who download PDFs side by side before the clock (one per worker; 0: none)",
    )
    parser.add_argument("--out", default=str(common.SOAK_JSON))
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/performance.md")
    args = parser.parse_args(argv)

    info = common.machine()
    stats, samples = Stats(), []  # type: ignore[var-annotated]
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as folder:
        tmp = Path(folder)
        env = common.server_env(
            tmp, f"sqlite:///{tmp / 'soak.sqlite3'}", deployment=args.deployment
        )
        done = common.flask(env, "db", "upgrade")
        if done.returncode:
            raise SystemExit("migration failed: " + done.stderr[-1500:])
        emails = common.setup_users(env, args.users, 0, None)["practitioners"]
        print(
            f"soak: {args.users} practitioners for {args.minutes:g} min; load {loadavg()}",
            flush=True,
        )
        load_start = loadavg()
        with common.Server(env, tmp / "gunicorn.log") as server:
            warm = warm_up(server.base, emails[: args.warm_up_users]) if args.warm_up_users else {}
            print(f"warm-up: {warm}", flush=True)
            began = time.monotonic()
            deadline = began + args.minutes * 60
            stop = threading.Event()
            sampler = threading.Thread(
                target=sample_memory, args=(server, began, samples, stop), daemon=True
            )
            sampler.start()
            counter = itertools.count(1)
            users = [Practitioner(server.base, email, stats, counter) for email in emails]
            threads = [threading.Thread(target=u.run, args=(deadline,), daemon=True) for u in users]
            for thread in threads:
                thread.start()
                time.sleep(0.2)  # staggered arrivals
            for thread in threads:
                thread.join(timeout=args.minutes * 60 + 300)
            stop.set()
            sampler.join(timeout=5)
            samples.append(
                {
                    "minute": round((time.monotonic() - began) / 60, 2),
                    "load_avg": loadavg(),
                    "workers": {
                        str(w.pid): round(w.memory_info().rss / 2**20, 1) for w in server.workers()
                    },
                }
            )
        log_tail = (tmp / "gunicorn.log").read_text(errors="replace")[-3000:]
        verify = common.flask(env, "audit", "verify")
    memory = memory_growth(samples, args.minutes)
    five = sum(c for s, c in stats.statuses.items() if s >= 500)
    other = sum(stats.errors.values()) - five
    growth = memory["max_growth"]
    checks = {
        "server_errors_5xx": five,
        "other_errors": other,
        "audit_verify_exit": verify.returncode,
        "rss_growth": growth,
        "rss_growth_ok": None if growth is None else growth <= 0.10,
    }
    steps = {
        name: {
            "count": len(v),
            "p50_ms": round(percentile(v, 50), 1),
            "p95_ms": round(percentile(v, 95), 1),
            "errors": stats.errors.get(name, 0),
        }
        for name, v in stats.steps.items()
    }
    passed = (
        five == 0 and other == 0 and verify.returncode == 0 and checks["rss_growth_ok"] is not False
    )
    report = {
        "date": info["date"],
        "git_commit": info["git_commit"],
        "cpus": info["cpus"],
        "memory_gib": info["memory_gib"],
        "minutes": args.minutes,
        "users": args.users,
        "deployment": args.deployment,
        "load_avg_start": load_start,
        "load_avg_end": loadavg(),
        "journeys": stats.journeys,
        "pdfs": stats.pdfs,
        "requests": sum(stats.statuses.values()),
        "statuses": {str(k): v for k, v in sorted(stats.statuses.items())},
        "checks": checks,
        "passed": passed,
        "memory": memory,
        "warm_up": warm,
        "memory_samples": samples,
        "steps": steps,
        "failures": stats.failures,
        "audit_verify_output": (verify.stdout + verify.stderr)[-500:],
        "server_log_tail": log_tail if not passed else "",
    }
    if args.minutes < 10:
        report["note"] = (
            f"This was a {args.minutes:g}-minute run, shorter than T28's 10 minutes: the memory "
            f"window is minute {memory['from_minute']} to {memory['to_minute']}."
        )
    common.write_json(Path(args.out), report)
    if not args.no_doc:
        common.replace_soak_section(DOC, common.soak_section(report))
    print(
        json.dumps(
            {k: report[k] for k in ("journeys", "requests", "pdfs", "checks", "passed")}, indent=2
        )
    )
    for failure in stats.failures[:5]:
        print("failure:", failure)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
