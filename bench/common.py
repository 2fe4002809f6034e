# ruff: noqa: E501 (report text)
"""Shared pieces of `make bench` (bench/run_all.py) and `make soak` (bench/soak.py).

Machine facts, load averages, a gunicorn launcher that always cleans up after itself, a small
cookie-keeping HTTP client on http.client (the soak's practitioners, and signing the bench's
locust sessions in beforehand), and the set-up of the throwaway database's users and drafts.

Nothing here asserts timings: it measures and reports.
"""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import json
import os
import platform
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
CACHE = ROOT / "bench" / ".cache" / "run_all"
PASSWORD = "bench-horse-battery-staple-42"  # the same as bench/bench_wizard.py's
CSRF_RE = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


# ------------------------------------------------------------------------ machine and load
def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict[str, Any]:
    """Date, CPU count, memory, git commit: what a reader needs to compare two runs."""
    import psutil

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "cpu_model": _cpu_model(),
        "python": platform.python_version(),
        "git_commit": commit + ("+local-changes" if dirty else ""),
        "load_avg": loadavg(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def median(values: Iterable[float]) -> float:
    data = [v for v in values if v is not None]
    return statistics.median(data) if data else float("nan")


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile; nan for no data."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


# ------------------------------------------------------------------------ server
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(tmp: Path, db_url: str, deployment: str = "production") -> dict[str, str]:
    """Production settings (DEBUG off, Secure __Host- cookie, HSTS, real KEK and signing key),
    plus the bench-only hello route. A throwaway secret key, KEK and signing key per run."""
    kek = tmp / "kek.key"
    kek.write_text(base64.b64encode(secrets.token_bytes(32)).decode())
    kek.chmod(0o600)
    env = {
        **os.environ,
        "DECISION_AID_DEPLOYMENT": deployment,
        "DECISION_AID_SECRET_KEY": secrets.token_hex(32),
        "DECISION_AID_SQLALCHEMY_DATABASE_URI": db_url,
        "DECISION_AID_KEK_FILE": str(kek),
        "DECISION_AID_BENCH_HELLO_ROUTE": "true",
        "DECISION_AID_CHECKPOINT_DIR": str(tmp / "checkpoints"),
        "PYTHONPATH": str(ROOT),
        "FLASK_APP": "decision_aid",
    }
    env.pop("DATABASE_URL", None)
    key = tmp / "audit-signing.key"
    if not key.exists():
        flask(env, "audit", "keygen", "--out", str(key))
    env["DECISION_AID_AUDIT_SIGNING_KEY_FILE"] = str(key)
    return env


def flask(
    env: dict[str, str], *args: str, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run a `flask --app decision_aid ...` command with the bench environment."""
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "decision_aid", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def in_app(env: dict[str, str], code: str, timeout: float = 900) -> Any:
    """Run `code` (which sets `result`) in a fresh interpreter with the bench environment; JSON back."""
    wrapper = (
        "import json, sys\nresult = None\n"
        + code
        + "\nsys.stdout.write('\\n@@RESULT@@' + json.dumps(result, default=str))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", wrapper],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if out.returncode != 0 or "@@RESULT@@" not in out.stdout:
        raise RuntimeError(f"set-up step failed: {(out.stderr or out.stdout)[-2000:]}")
    return json.loads(out.stdout.rsplit("@@RESULT@@", 1)[1])


class Server:
    """gunicorn, sync workers, on 127.0.0.1; its own process group, always stopped."""

    def __init__(self, env: dict[str, str], log: Path, workers: int = 2) -> None:
        self.port = free_port()
        self.base = f"127.0.0.1:{self.port}"
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.log = log.open("ab")
        self.proc = subprocess.Popen(
            [
                str(gunicorn),
                "-w",
                str(workers),
                "-k",
                "sync",
                "-b",
                self.base,
                "--log-level",
                "warning",
                "--timeout",
                "120",
                "decision_aid:create_app()",
            ],
            env=env,
            cwd=ROOT,
            stdout=self.log,
            stderr=self.log,
            start_new_session=True,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if Http(self.base).request("GET", "/bench/hello")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"gunicorn did not start; see {log}: {log.read_text()[-1500:]}")

    def workers(self) -> list[Any]:
        import psutil

        try:
            return psutil.Process(self.proc.pid).children()
        except psutil.Error:
            return []

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=10)
        self.log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ------------------------------------------------------------------------ client
class Http:
    """A browser-like client on http.client: keeps cookies (Secure ones too, since the bench
    speaks plain http on loopback), never follows redirects, reconnects when the sync worker
    closes the connection (gunicorn's sync workers do not keep connections alive)."""

    def __init__(self, base: str) -> None:
        self.host, port = base.split(":")
        self.port = int(port)
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None

    def request(  # noqa: C901
        self, method: str, path: str, form: dict[str, Any] | None = None, timeout: float = 120
    ) -> tuple[int, dict[str, str], bytes]:
        headers = {"Host": f"{self.host}:{self.port}", "User-Agent": "decision-aid-bench"}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                reply = self.conn.getresponse()
                data = reply.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2:
                    raise
        for name, value in reply.getheaders():
            if name.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                key, _, val = pair.partition("=")
                if "max-age=0" in value.lower() or "expires=thu, 01 jan 1970" in value.lower():
                    self.cookies.pop(key.strip(), None)
                else:
                    self.cookies[key.strip()] = val.strip()
        if reply.will_close:
            self.close()
        return reply.status, {k.lower(): v for k, v in reply.getheaders()}, data

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def csrf(self, path: str) -> tuple[str, str]:
        status, _, body = self.request("GET", path)
        html = body.decode("utf-8", "replace")
        match = CSRF_RE.search(html)
        if status != 200 or not match:
            raise RuntimeError(f"GET {path}: {status}, no CSRF token")
        return match.group(1), html

    def sign_in(self, email: str, password: str = PASSWORD, totp_secret: str | None = None) -> None:
        """Password, then (when asked) the TOTP code; retried twice on a re-shown form."""
        for attempt in range(3):
            try:
                return self._sign_in(email, password, totp_secret)
            except RuntimeError:
                if attempt == 2:
                    raise
                self.cookies.clear()
                time.sleep(1 + attempt)

    def _sign_in(self, email: str, password: str, totp_secret: str | None) -> None:
        token, _ = self.csrf("/sign-in")
        status, headers, body = self.request(
            "POST", "/sign-in", {"email": email, "password": password, "csrf_token": token}
        )
        location = headers.get("location", "")
        if status != 302:
            errors = re.findall(
                r"govuk-error-message[^>]*>(.*?)</", body.decode("utf-8", "replace"), re.S
            )
            raise RuntimeError(f"sign-in of {email} failed: {status} {errors[:2]}")
        if "/sign-in/two-factor" in location:
            if totp_secret is None:
                raise RuntimeError(f"{email} needs a second factor")
            import pyotp

            token, _ = self.csrf("/sign-in/two-factor")
            status, headers, _ = self.request(
                "POST",
                "/sign-in/two-factor",
                {"code": pyotp.TOTP(totp_secret).now(), "csrf_token": token},
            )
            if status != 302 or "two-factor" in headers.get("location", ""):
                raise RuntimeError(f"second factor of {email} failed: {status}")


# ------------------------------------------------------------------------ database set-up
# These run inside a subprocess with the server's environment (see in_app), so the app reads the
# same database, key and KEK as gunicorn.
def _setup_users(
    practitioners: int, supervisors: int, supervisor_team: int | None
) -> dict[str, Any]:
    import pyotp

    from bench.bench_wizard import _create_users
    from decision_aid import create_app
    from decision_aid.admin import service as admin
    from decision_aid.auth import mfa
    from decision_aid.extensions import db
    from decision_aid.models import Team, User

    emails = _create_users(
        practitioners
    )  # organisation (practitioner MFA off), team, practitioners
    out: dict[str, Any] = {"practitioners": emails, "supervisors": []}
    with create_app().app_context():
        team_id = supervisor_team
        if team_id is None:
            team_id = db.session.query(Team.id).filter(Team.name == "Bench team").scalar()
        for i in range(supervisors):
            user = admin.create_user(
                None,
                email=f"bench-supervisor{i}@example.org",
                display_name=f"Bench Supervisor {i}",
                role="supervisor",
                password=PASSWORD,
                team_ids=[team_id],
            )
            secret = pyotp.random_base32()
            mfa.provision(db.session.get(User, user.id), secret)
            out["supervisors"].append([user.email, secret])
        _approve_rules()
    return out


def _approve_rules() -> None:
    """A DPO signs off the rule set, as a live deployment must before decisions are made with it
    (issue 10): the pages then run as in production, without the "unapproved rules" banner."""
    from decision_aid.admin import service as admin
    from decision_aid.extensions import db
    from decision_aid.models import User
    from decision_aid.operations import governance

    if governance.ruleset_approved():
        return
    dpo = admin.create_user(None, email="bench-dpo@example.org", display_name="Bench DPO",
                            role="dpo", password=PASSWORD)
    governance.sign_off(db.session.get(User, dpo.id), "Bench: approved as in production")


def _make_drafts(emails: list[str], per_user: int, tag: str) -> dict[str, list[str]]:
    """Complete drafts ready to submit (the answers of bench/bench_wizard.py), made in-process."""
    from sqlalchemy import select

    from bench.bench_wizard import complete_draft
    from decision_aid import create_app
    from decision_aid.extensions import db
    from decision_aid.models import User

    out: dict[str, list[str]] = {}
    with create_app().app_context():
        now = dt.datetime.now(dt.UTC)
        for user in db.session.scalars(select(User).where(User.email.in_(emails))):
            made = []
            for i in range(per_user):
                draft = complete_draft(user.id, f"BENCH-{tag}-{i:05d}", now)
                db.session.add(draft)
                made.append(draft)
            db.session.flush()
            out[user.email] = [str(d.id) for d in made]
        db.session.commit()
    return out


def setup_users(
    env: dict[str, str], practitioners: int, supervisors: int, supervisor_team: int | None
) -> dict[str, Any]:
    return in_app(
        env,
        "from bench.common import _setup_users\n"
        f"result = _setup_users({practitioners}, {supervisors}, {supervisor_team!r})",
    )


def make_drafts(
    env: dict[str, str], emails: list[str], per_user: int, tag: str
) -> dict[str, list[str]]:
    return in_app(
        env,
        "from bench.common import _make_drafts\n"
        f"result = _make_drafts({emails!r}, {per_user}, {tag!r})",
    )


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


# ------------------------------------------------------------------------ docs/performance.md soak part
SOAK_START, SOAK_END = "<!-- soak:start -->", "<!-- soak:end -->"
SOAK_JSON = RESULTS / "soak.json"


def soak_section(soak: dict[str, Any] | None = None) -> str:
    """The soak section of docs/performance.md, from bench/results/soak.json."""
    if soak is None:
        try:
            soak = json.loads(SOAK_JSON.read_text())
        except (OSError, ValueError):
            return "## Soak (`make soak`)\n\nNot run yet: `make soak` writes this section."
    c = soak["checks"]
    mem = soak.get("memory", {})
    steps = soak.get("steps", {})
    lines = [
        "## Soak (`make soak`)",
        "",
        f"{soak['date']}, git {soak['git_commit']}, {soak['cpus']} CPUs, {soak['memory_gib']} GiB; "
        f"{soak['minutes']:g} minutes, {soak['users']} simulated practitioners on gunicorn (sync, 2 workers, "
        f"{soak['deployment']} settings) on 127.0.0.1; load average {soak['load_avg_start']} → {soak['load_avg_end']}.",
        f"Journeys completed: {soak['journeys']}; requests: {soak['requests']}; PDFs: {soak['pdfs']}.",
        "",
        "| Check | Result | Target | Met? |",
        "|---|---|---|---|",
        f"| Server errors (5xx) | {c['server_errors_5xx']} | 0 | {'yes' if c['server_errors_5xx'] == 0 else '**no**'} |",
        f"| Other failed requests (not 5xx) | {c['other_errors']} | 0 | {'yes' if c['other_errors'] == 0 else '**no**'} |",
        f"| Audit chain after the soak (`flask audit verify`) | exit {c['audit_verify_exit']} | verifies | "
        f"{'yes' if c['audit_verify_exit'] == 0 else '**no**'} |",
        f"| Worker RSS growth, minute {mem.get('from_minute')} → minute {mem.get('to_minute')}"
        f"{_window(mem)} | "
        f"{_pct(c.get('rss_growth'))} | ≤ 10% | {_yes(c.get('rss_growth_ok'))} |",
        "",
    ]
    if mem.get("workers"):
        lines.append(
            "Worker RSS (MiB) at the two ends: "
            + "; ".join(
                f"pid {w['pid']}: {w['from_mib']} → {w['to_mib']} ({_pct(w['growth'])}"
                + (
                    f"; one sample at each end: {_pct(w['single_sample_growth'])}"
                    if w.get("single_sample_growth") is not None
                    else ""
                )
                + ")"
                for w in mem["workers"]
            )
            + "."
        )
        lines.append("")
    if steps:
        lines += ["| Step | Requests | p50 ms | p95 ms | Errors |", "|---|---|---|---|---|"]
        for name, s in steps.items():
            lines.append(
                f"| {name} | {s['count']} | {s['p50_ms']} | {s['p95_ms']} | {s['errors']} |"
            )
        lines.append("")
    if soak.get("warm_up"):
        warm = soak["warm_up"]
        lines += [
            f"Warm-up before the clock (not counted): {warm.get('users')} users, "
            f"{warm.get('pdfs')} PDFs side by side so each worker has rendered one"
            + (f"; failures: {warm['failures']}" if warm.get("failures") else "")
            + ".",
            "",
        ]
    if soak.get("note"):
        lines += [soak["note"], ""]
    seen = sorted(
        set(re.findall(r"\w+(?:Error|Exception): [^\n]{0,160}", soak.get("server_log_tail") or ""))
    )
    if seen:
        lines += ["Errors in the server log: " + "; ".join(f"`{e}`" for e in seen[:5]) + ".", ""]
    failures = sorted(set(re.sub(r"[0-9a-f-]{36}", "<id>", f) for f in soak.get("failures", [])))
    if failures:
        lines += ["Failed steps seen: " + "; ".join(f"`{f}`" for f in failures[:8]) + ".", ""]
    return "\n".join(lines).rstrip()


def _window(mem: dict[str, Any]) -> str:
    """How each end of the RSS comparison was read (older soak.json files: one sample)."""
    minutes = mem.get("window_minutes")
    if not minutes:
        return ""
    return f" (median of each worker's samples in a {minutes:g}-minute window at each end)"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:+.1f}%"


def _yes(value: bool | None) -> str:
    return {True: "yes", False: "**no**", None: "n/a (soak shorter than the sample window)"}[value]


def replace_soak_section(doc: Path, section: str) -> None:
    """Put the soak section into docs/performance.md (between its markers), keeping the rest."""
    block = f"{SOAK_START}\n{section}\n{SOAK_END}"
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Performance\n\n"
    if SOAK_START in text and SOAK_END in text:
        head, rest = text.split(SOAK_START, 1)
        text = head + block + rest.split(SOAK_END, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    doc.write_text(text, encoding="utf-8")
