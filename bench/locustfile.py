"""Locust users for the HTTP phases of `make bench` (issue 11): one task per phase.

`bench/run_all.py` drives these through locust's library API (one phase at a time, a fixed run
time, the warm-up discarded) and reads throughput and percentiles from locust's own stats. The
file also runs on its own, headless, against a server you started:

    BENCH_LOCUST_WORLD=world.json .venv/bin/locust -f bench/locustfile.py --headless \\
        -u 16 -r 16 -t 10s --only-summary --host http://127.0.0.1:8000 --tags hello

Tasks (tags): `hello` (the bench-only floor route), `wizard_page` (a question page of a draft),
`wizard_submit` (POST a complete draft's decision page, signed in, with the CSRF token),
`review_queue` (the review queue with filters, a supervisor signed in with TOTP) and
`pdf_download` (a decision record as PDF).

Who the users are comes from a "world" (set `WORLD`, or a JSON file named in
BENCH_LOCUST_WORLD): practitioners and supervisors, each with either the cookies of a session the
orchestrator already signed in (so a phase measures the task, not password hashing) or the
password/TOTP secret to sign in at start, plus the practitioners' drafts ready to submit.

Why the cookie is sent by hand: the app's session cookie is `__Host-` and Secure, and the bench
speaks plain http on loopback; a pre-signed-in session's cookie is put in the Cookie header, which
is the only difference from a browser over TLS.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import gevent
from locust import FastHttpUser, events, tag, task

HELLO = "/bench/hello"
REVIEW_QUERY = "/review?status=any&recommendation=lawful_to_share&from=2026-01-01&to=2026-08-31"
DECISION_FORM = {"outcome": "do_not_share", "reasons": "Benchmark decision: not necessary."}
CSRF_RE = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')
TASKS = ("hello", "wizard_page", "wizard_submit", "review_queue", "pdf_download")
SUPERVISOR_TASKS = ("review_queue",)

WORLD: dict[str, Any] | None = None
STATUSES: Counter[int] = Counter()  # every response's status (0: no response), for 5xx counts
_lock = threading.Lock()
_counters: dict[str, itertools.count[int]] = {}


class BenchSetupError(RuntimeError):
    """The world is missing or a user could not be signed in: the phase cannot measure."""


def world() -> dict[str, Any]:
    """The identities to use: `WORLD` if the orchestrator set it, else the JSON file."""
    global WORLD
    if WORLD is None:
        name = os.environ.get("BENCH_LOCUST_WORLD")
        if not name:
            raise BenchSetupError("set BENCH_LOCUST_WORLD to a world JSON file (see the docstring)")
        try:
            WORLD = json.loads(Path(name).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BenchSetupError(f"cannot read the world file {name}: {exc}") from exc
    return WORLD


def next_identity(role: str) -> dict[str, Any]:
    """Hand out the identities of one role round-robin, so N users are N distinct sessions."""
    people = world().get(role) or []
    if not people:
        raise BenchSetupError(f"the world has no {role}")
    with _lock:
        counter = _counters.setdefault(role, itertools.count())
        return people[next(counter) % len(people)]


def reset() -> None:
    """Forget the status tally and restart the round-robin (between phases)."""
    STATUSES.clear()
    _counters.clear()


@events.request.add_listener
def _tally(response: Any = None, exception: Any = None, **_: Any) -> None:
    """Count statuses: locust's failure count mixes wrong answers and server errors."""
    code = getattr(response, "status_code", 0) or 0
    STATUSES[0 if exception is not None and not code else int(code)] += 1


class SignedInUser(FastHttpUser):
    """A browser-like user of the app: a signed-in session and its CSRF token."""

    abstract = True
    role = "practitioners"

    def on_start(self) -> None:
        self.identity = next_identity(self.role)
        self.headers: dict[str, str] = {"User-Agent": "decision-aid-bench-locust"}
        cookies = self.identity.get("cookies")
        if cookies:
            self.headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        else:
            self.sign_in()
        self.csrf = self.identity.get("csrf") or self.fetch_csrf("/decisions")

    # ---------------------------------------------------------------- helpers
    def fetch_csrf(self, path: str) -> str:
        with self.client.get(
            path, headers=self.headers, name=f"setup {path}", catch_response=True
        ) as reply:
            match = CSRF_RE.search(reply.text or "")
            if reply.status_code != 200 or match is None:
                reply.failure(f"no CSRF token on {path}")
                raise BenchSetupError(f"GET {path}: {reply.status_code}, no CSRF token")
            return match.group(1)

    def post_form(self, path: str, form: dict[str, Any], name: str) -> Any:
        with self.client.post(
            path,
            data=form,
            headers=self.headers,
            name=name,
            allow_redirects=False,
            catch_response=True,
        ) as reply:
            reply.success()  # the caller judges the redirect
            return reply

    def sign_in(self) -> None:
        """Password, then the TOTP code when asked (standalone runs; the orchestrator signs in
        beforehand so that password hashing is not part of a phase)."""
        email = self.identity["email"]
        token = self.fetch_csrf("/sign-in")
        password = self.identity.get("password") or world().get("password", "")
        reply = self.post_form(
            "/sign-in",
            {"email": email, "password": password, "csrf_token": token},
            "setup sign in",
        )
        if reply.status_code != 302:
            raise BenchSetupError(f"sign-in of {email} failed: {reply.status_code}")
        if "two-factor" in reply.headers.get("Location", ""):
            import pyotp

            secret = self.identity.get("totp_secret")
            if not secret:
                raise BenchSetupError(f"{email} needs a second factor and the world has none")
            token = self.fetch_csrf("/sign-in/two-factor")
            form = {"code": pyotp.TOTP(secret).now(), "csrf_token": token}
            reply = self.post_form("/sign-in/two-factor", form, "setup two-factor")
            if reply.status_code != 302 or "two-factor" in reply.headers.get("Location", ""):
                raise BenchSetupError(f"second factor of {email} failed: {reply.status_code}")

    def get_checked(self, path: str, name: str, expect: bytes) -> None:
        """GET and count it a failure unless 200 with the expected bytes in the body."""
        with self.client.get(path, headers=self.headers, name=name, catch_response=True) as reply:
            if reply.status_code != 200:
                reply.failure(f"status {reply.status_code}")
            elif expect not in (reply.content or b""):
                reply.failure(f"{expect!r} not in the answer")


class Practitioner(SignedInUser):
    """Hello, a wizard page, a wizard submit and a PDF download, as a signed-in practitioner."""

    role = "practitioners"

    @tag("hello")
    @task
    def hello(self) -> None:
        self.get_checked(HELLO, "hello", b"")

    @tag("wizard_page")
    @task
    def wizard_page(self) -> None:
        path = f"/decisions/drafts/{self.identity['view_draft']}/questions/purpose"
        self.get_checked(path, "wizard_page", b"csrf_token")

    @tag("wizard_submit")
    @task
    def wizard_submit(self) -> None:
        drafts: list[str] = self.identity.setdefault("drafts", [])
        if not drafts:  # this identity has used its drafts: nothing left to submit
            gevent.sleep(0.1)
            return
        draft = drafts.pop()
        form = {**DECISION_FORM, "csrf_token": self.csrf}
        with self.client.post(
            f"/decisions/drafts/{draft}/decision",
            data=form,
            headers=self.headers,
            name="wizard_submit",
            allow_redirects=False,
            catch_response=True,
        ) as reply:
            location = reply.headers.get("Location", "") if reply.headers else ""
            path = location.rstrip("/")
            if reply.status_code == 302 and path.endswith("/confirmation"):
                self.identity.setdefault("decisions", []).append(path.split("/")[-2])
            else:
                reply.failure(f"status {reply.status_code}, redirect to {location or 'nowhere'}")

    @tag("pdf_download")
    @task
    def pdf_download(self) -> None:
        decisions = self.identity.get("decisions") or []
        if not decisions:
            raise BenchSetupError(f"{self.identity['email']} has no submitted decision")
        self.get_checked(f"/decisions/{decisions[0]}/record.pdf", "pdf_download", b"%PDF-")


class Supervisor(SignedInUser):
    """The review queue with filters, as a supervisor signed in with TOTP."""

    role = "supervisors"

    @tag("review_queue")
    @task
    def review_queue(self) -> None:
        self.get_checked(REVIEW_QUERY, "review_queue", b"Review queue")


def user_for(phase: str) -> type[SignedInUser]:
    """A user class whose only task is `phase` (the library-API equivalent of `--tags`, without
    locust's tag filter, which edits the classes in place and so works once per process)."""
    if phase not in TASKS:
        raise ValueError(f"unknown phase {phase!r}; one of {', '.join(TASKS)}")
    base = Supervisor if phase in SUPERVISOR_TASKS else Practitioner
    user = type(f"{base.__name__}_{phase}", (base,), {})
    user.tasks = [getattr(base, phase)]  # set after creation: locust's metaclass adds the base's
    return user
