"""Benchmark wizard pages against a hello-world route under gunicorn (quality targets T22-T23).

Not a timed test: figures depend on the machine. Starts gunicorn (sync, 2 workers) on loopback
with a throwaway SQLite database and the bench-only GET /bench/hello route, signs in one
practitioner session per load thread, and runs three phases per run with a fixed duration:

  hello       GET /bench/hello
  wizard      GET a question page of a draft (rule-set navigation, form and template)
  submission  POST the decision page of a complete draft (CSRF, validation, rule evaluation,
              Decision insert and audit append in one write transaction, redirect)

Reports the median of three runs and the ratios, and writes bench/results/wizard.json.
Targets: wizard throughput >= 0.30x hello, wizard p95 <= 3x hello p95, submission throughput
>= 0.5x wizard.

    .venv/bin/python bench/bench_wizard.py [--threads 16] [--seconds 10] [--runs 3]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PASSWORD = "bench-horse-battery-staple-42"
CSRF_RE = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')
ANSWERS = {
    "immediate_risk": False,
    "trigger": "proactive",
    "protected_person_age": "under_18",
    "data_special_category": True,
    "data_criminal_offence": False,
    "data_held_in_confidence": False,
    "data_collected_for_other_purpose": False,
    "purpose": "protect_from_harm_or_neglect",
    "sharing_necessary": "yes",
    "recipient_role_in_safeguarding": "yes",
    "recipient_is_competent_authority": False,
    "statutory_function": "none",
    "protective_function": False,
    "civil_contingencies_emergency": False,
    "consent_position": "would_prejudice_protection",
    "safe_to_inform": "yes",
    "substantial_public_interest": "yes",
    "legitimate_interests_balance": "favours_sharing",
}
DECISION = {"outcome": "do_not_share", "reasons": "Benchmark decision: not necessary."}


def environment(tmp: Path) -> dict[str, str]:
    """Settings for both the set-up process and gunicorn: same database, key and secret."""
    kek = tmp / "kek.key"
    kek.write_text(base64.b64encode(secrets.token_bytes(32)).decode())
    kek.chmod(0o600)
    return {
        **os.environ,
        "DECISION_AID_DEPLOYMENT": "development",
        "DECISION_AID_SECRET_KEY": secrets.token_hex(32),
        "DECISION_AID_SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.sqlite3'}",
        "DECISION_AID_KEK_FILE": str(kek),
        "DECISION_AID_BENCH_HELLO_ROUTE": "true",
        "DECISION_AID_CHECKPOINT_DIR": str(tmp / "checkpoints"),
        "PYTHONPATH": str(ROOT),
    }


def set_up_database(env: dict[str, str], users: int) -> list[str]:
    """Migrate, then create the organisation and practitioners (MFA off for the bench)."""
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "decision_aid", "db", "upgrade"],
        env=env,
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    code = (
        "import sys; from bench.bench_wizard import _create_users; "
        f"print(' '.join(_create_users({users})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True, cwd=ROOT
    )
    return out.stdout.split()


def _app() -> Any:
    from decision_aid import create_app

    return create_app()


def _create_users(count: int) -> list[str]:
    """Runs inside the bench's environment (a subprocess), so the app reads the same settings."""
    from decision_aid.admin import service as admin
    from decision_aid.cli import ensure_organisation
    from decision_aid.extensions import db

    with _app().app_context():
        org = ensure_organisation("Bench Safeguarding Partnership")
        org.mfa_required_for_practitioners, org.apd_in_place = False, True
        db.session.commit()
        team = admin.create_team(None, org, "Bench team")
        emails = [f"bench{i}@example.org" for i in range(count)]
        for email in emails:
            admin.create_user(
                None,
                email=email,
                display_name="Bench Practitioner",
                role="practitioner",
                password=PASSWORD,
                team_ids=[team.id],
            )
        return emails


def complete_draft(practitioner_id: Any, case_ref: str, now: Any) -> Any:
    """A draft with every answer of ANSWERS, ready to submit (not yet added to the session)."""
    from decision_aid.models.decision import Draft

    draft = Draft(practitioner_id=practitioner_id, case_ref=case_ref, as_at=now.date(),
                  emergency=False, created_at=now, updated_at=now)
    draft.answers, draft.sharing = dict(ANSWERS), {}
    return draft


def _create_drafts(per_user: int) -> None:
    """Complete drafts for every practitioner, ready to submit (made in-process, not timed)."""
    import datetime as dt

    from sqlalchemy import select

    from decision_aid.extensions import db
    from decision_aid.models import User

    with _app().app_context():
        now = dt.datetime.now(dt.UTC)
        for user in db.session.scalars(select(User)):
            for i in range(per_user):
                db.session.add(complete_draft(user.id, f"BENCH-{i:05d}", now))
        db.session.commit()


def draft_ids(env: dict[str, str], per_user: int) -> None:
    """Create drafts in a subprocess with the bench environment."""
    code = f"from bench.bench_wizard import _create_drafts; _create_drafts({per_user})"
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, cwd=ROOT)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_gunicorn(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    """The production server settings T22 names: sync workers, two of them, loopback only."""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen(
        [
            str(gunicorn),
            "-w",
            "2",
            "-k",
            "sync",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "decision_aid:create_app()",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/bench/hello", timeout=10).status_code == 200:
                return proc
        except requests.RequestException:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(
        "gunicorn did not start: " + (proc.stderr.read().decode() if proc.stderr else "")
    )


def stop(server: subprocess.Popen[bytes]) -> None:
    """Graceful stop (workers finish their request), then kill if it takes too long."""
    server.terminate()
    try:
        server.wait(timeout=45)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


class Client:
    """One signed-in practitioner: a requests session, its CSRF token and its drafts."""

    def __init__(self, base: str, email: str) -> None:
        self.base, self.http = base, requests.Session()
        page = self.http.get(f"{base}/sign-in")
        token = CSRF_RE.search(page.text)
        assert token, "no CSRF token on the sign-in page"
        reply = self.http.post(
            f"{base}/sign-in",
            allow_redirects=False,
            data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)},
        )
        assert reply.status_code == 302, f"sign-in failed: {reply.status_code}"
        listing = self.http.get(f"{base}/decisions").text
        self.token = CSRF_RE.search(listing).group(1)  # type: ignore[union-attr]
        self.drafts = re.findall(r"/decisions/drafts/([0-9a-f-]{36})", listing)

    def hello(self) -> bool:
        return self.http.get(f"{self.base}/bench/hello").status_code == 200

    def wizard_page(self) -> bool:
        url = f"{self.base}/decisions/drafts/{self.drafts[0]}/questions/purpose"
        return self.http.get(url).status_code == 200

    def submit(self) -> bool:
        if len(self.drafts) < 2:  # out of prepared drafts: count it, without spinning
            time.sleep(0.05)
            return False
        draft = self.drafts.pop()
        reply = self.http.post(
            f"{self.base}/decisions/drafts/{draft}/decision",
            allow_redirects=False,
            data={**DECISION, "csrf_token": self.token},
        )
        return reply.status_code == 302 and "/confirmation" in reply.headers.get("Location", "")


def run_phase(
    clients: list[Client], action: Callable[[Client], bool], seconds: float
) -> dict[str, float]:
    """Each thread repeats its action until the deadline; warm-up (first second) is discarded."""
    latencies: list[list[float]] = [[] for _ in clients]
    errors = [0] * len(clients)
    start = time.monotonic()
    warm, deadline = start + 1.0, start + 1.0 + seconds

    def work(index: int) -> None:
        while (now := time.monotonic()) < deadline:
            ok = action(clients[index])
            done = time.monotonic()
            if not ok:
                errors[index] += 1
            elif now >= warm:
                latencies[index].append(done - now)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    flat = sorted(x for per in latencies for x in per)
    p95 = flat[int(0.95 * (len(flat) - 1))] if flat else float("nan")
    return {
        "requests": len(flat),
        "rps": len(flat) / seconds,
        "p95_ms": p95 * 1000,
        "errors": sum(errors),
    }


def one_run(base: str, emails: list[str], env: dict[str, str], seconds: float) -> dict[str, Any]:
    draft_ids(env, per_user=int(seconds * 25) + 5)  # more than 16 users can submit (run_all too)
    clients = [Client(base, email) for email in emails]
    result = {
        name: run_phase(clients, action, seconds)
        for name, action in (
            ("hello", Client.hello),
            ("wizard", Client.wizard_page),
            ("submission", Client.submit),
        )
    }
    return result


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median per metric across runs, and the T22-T23 ratios of the medians."""
    median = {
        phase: {
            key: statistics.median(run[phase][key] for run in runs)
            for key in ("rps", "p95_ms", "errors")
        }
        for phase in runs[0]
    }
    ratios = {
        "wizard_rps_over_hello": median["wizard"]["rps"] / median["hello"]["rps"],
        "wizard_p95_over_hello_p95": median["wizard"]["p95_ms"] / median["hello"]["p95_ms"],
        "submission_rps_over_wizard": median["submission"]["rps"] / median["wizard"]["rps"],
    }
    targets = {
        "wizard_rps_over_hello": ratios["wizard_rps_over_hello"] >= 0.30,
        "wizard_p95_over_hello_p95": ratios["wizard_p95_over_hello_p95"] <= 3.0,
        "submission_rps_over_wizard": ratios["submission_rps_over_wizard"] >= 0.5,
    }
    return {"median": median, "ratios": ratios, "targets_met": targets}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-wizard-") as tmp:
        env = environment(Path(tmp))
        emails = set_up_database(env, args.threads)
        port = free_port()
        server = start_gunicorn(env, port)
        try:
            runs = [
                one_run(f"http://127.0.0.1:{port}", emails, env, args.seconds)
                for _ in range(args.runs)
            ]
        finally:
            stop(server)
    report = {
        "server": "gunicorn sync, 2 workers, 127.0.0.1, SQLite",
        "threads": args.threads,
        "seconds_per_phase": args.seconds,
        "runs": runs,
        **summarise(runs),
    }
    out = ROOT / "bench" / "results" / "wizard.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: report[k] for k in ("median", "ratios", "targets_met")}, indent=2))


if __name__ == "__main__":
    main()
