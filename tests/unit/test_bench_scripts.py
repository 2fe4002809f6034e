"""The bench scripts import and parse their arguments; the report code handles missing parts.

No timing is measured or asserted here: `make bench` and `make soak` measure, `make test` only
checks that they can start.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
OWN_SCRIPTS = ("run_all.py", "soak.py")
OTHER_SCRIPTS = ("bench_audit.py", "bench_pdf.py", "bench_wizard.py", "bench_review_queries.py",
                 "bench_audit_queries.py")


def _help(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("script", OWN_SCRIPTS)
def test_orchestrators_show_help(script: str) -> None:
    done = _help(script)
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout


@pytest.mark.parametrize("script", OTHER_SCRIPTS)
def test_driven_scripts_show_help(script: str) -> None:
    if not (ROOT / "bench" / script).exists():
        pytest.skip(f"bench/{script} not present")
    done = _help(script)
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout


def test_run_all_rejects_unknown_arguments() -> None:
    from bench import run_all

    with pytest.raises(SystemExit) as exc:
        run_all.main(["--no-such-flag"])
    assert exc.value.code == 2


def test_soak_rejects_bad_minutes() -> None:
    from bench import soak

    with pytest.raises(SystemExit) as exc:
        soak.main(["--minutes", "ten"])
    assert exc.value.code == 2


def _args() -> argparse.Namespace:
    return argparse.Namespace(pdf_threads=2)


def test_missing_parts_are_reported_as_not_run() -> None:
    from bench import run_all

    rows = run_all.figures({"rules": {"not_run": "exit 1: boom"}}, _args())
    assert rows, "every figure has a row"
    assert all("not_run" in row for row in rows)
    assert any("boom" in row["not_run"] for row in rows)
    assert "not run" in run_all.table(rows)


def test_figures_take_medians_and_same_run_ratios() -> None:
    from bench import run_all

    def phase(rps: float, p95: float) -> dict[str, float]:
        return {
            "rps": rps,
            "p95_ms": p95,
            "server_errors_5xx": 0,
            "load_avg_start": [1.0],
            "load_avg_end": [1.0],
        }

    runs = [
        {
            "hello": phase(100, 10),
            "wizard_get": phase(40, 20),
            "wizard_submit": phase(30, 40),
            "review_queue": phase(20, 30),
        }
        for _ in range(3)
    ]
    runs[1]["hello"] = phase(50, 10)  # ratios are per run, then the median
    rows = run_all.figures({"http": {"runs": runs, "audit_verify_after": {"exit": 0}}}, _args())
    wizard = next(r for r in rows if r["figure"].startswith("HTTP wizard page GET, throughput"))
    assert wizard["result"] == 40
    assert wizard["ratio"] == pytest.approx(0.4)
    assert wizard["met"] is True
    errors = next(r for r in rows if "5xx" in r["figure"])
    assert errors["result"] == 0 and errors["met"] is True
    assert not any("submit" in r["figure"] and "PostgreSQL" in r["figure"] for r in rows)


def test_t23_postgresql_rows_use_their_own_runs() -> None:
    from bench import run_all

    def phase(rps: float, p95: float) -> dict[str, Any]:
        return {"rps": rps, "p95_ms": p95, "load_avg_start": [1.0], "load_avg_end": [1.0]}

    sqlite = [{"hello": phase(100, 10), "wizard_get": phase(40, 20),
               "wizard_submit": phase(10, 200)} for _ in range(3)]
    pg = [{"wizard_get": phase(40, 30), "wizard_submit": phase(24, p95)} for p95 in (60, 80, 70)]
    http = {"runs": sqlite, "postgresql": {"runs": pg}, "audit_verify_after": {"exit": 0}}
    rows = {r["figure"]: r for r in run_all.figures({"http": http}, _args())}
    throughput = rows["HTTP wizard submit, throughput (PostgreSQL)"]
    assert throughput["ratio"] == pytest.approx(0.6) and throughput["met"] is True
    latency = rows["HTTP wizard submit, p95 latency (PostgreSQL)"]
    assert latency["result"] == 70 and latency["met"] is True  # median of 60, 80, 70 <= 75
    assert rows["HTTP wizard submit (signed in, CSRF, rules, audit), throughput"]["met"] is False
    assert "213 submits/s" in run_all._miss_note(latency)



def test_verification_has_three_t18_figures_from_the_same_runs() -> None:
    from bench import run_all

    load = {"load_avg_start": [1.0], "load_avg_end": [1.0]}
    sqlite = {"rows": 1000, "verify_s": [1.2, 1.3, 9.0], "floor_s": [1.0, 1.0, 1.0],
              "verify_two_processes_s": [0.78, 0.84, 9.0], **load}
    postgresql = {"rows": 1000, "verify_s": [11.0, 12.0, 13.0], "floor_s": [5.0, 5.0, 5.0], **load}
    rows = run_all.verification_rows(
        {"verification_sqlite": sqlite, "verification_postgresql": postgresql})
    floor, parallel, pg = rows
    assert floor["ratio"] == pytest.approx(1.3) and floor["met"] is False
    assert parallel["ratio"] == pytest.approx(0.65) and parallel["met"] is True
    assert pg["result"] == 12.0 and pg["met"] is False
    assert run_all._miss_note(floor) and not run_all._miss_note(pg)
    assert "both CPUs" in run_all._miss_note(parallel)  # its own note, not the floor's
    assert run_all._miss_note(parallel) != run_all._miss_note(floor)
    assert "0.84× the floor" in parallel["note"]  # median of 0.78, 0.84, 9.0 over the floor
    before_split = run_all.verification_rows({"verification_sqlite": {**sqlite, "verify_two_processes_s": []}})
    assert "predate" in before_split[1]["not_run"]
    not_run = run_all.verification_rows({"verification_postgresql": {"not_run": "boom"}})
    assert len(not_run) == 1 and "not run" in not_run[0]["not_run"]

def test_soak_memory_growth_window() -> None:
    from bench import soak

    samples = [
        {"minute": m, "workers": {"1": 100.0 + m, "2": 100.0}} for m in (0.0, 0.5, 2.0, 6.0, 10.0)
    ]
    growth = soak.memory_growth(samples, 10)
    assert growth["from_minute"] == 2.0 and growth["to_minute"] == 10.0
    assert growth["max_growth"] == pytest.approx(110 / 102 - 1, abs=1e-4)
    assert soak.memory_growth(samples[:1], 10)["max_growth"] is None


# ---------------------------------------------------------------- bench/locustfile.py
# Importing locust monkey-patches the standard library with gevent, so the locustfile is only
# ever imported in a child interpreter, never in the test process.
def _in_child(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import json, sys\nsys.path.insert(0, '.')\n" + code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "BENCH_LOCUST_WORLD"},
    )


def test_locustfile_defines_the_users_and_their_tasks() -> None:
    done = _in_child(
        "from locust import FastHttpUser\n"
        "from bench import locustfile as lf\n"
        "def names(cls): return sorted(t.__name__ for t in cls.tasks)\n"
        "def tags(cls): return sorted(sorted(t.locust_tag_set)[0] for t in cls.tasks)\n"
        "print(json.dumps({\n"
        "  'fast': [issubclass(c, FastHttpUser) for c in (lf.Practitioner, lf.Supervisor)],\n"
        "  'practitioner': names(lf.Practitioner), 'supervisor': names(lf.Supervisor),\n"
        "  'tags': tags(lf.Practitioner) + tags(lf.Supervisor),\n"
        "  'phases': {p: names(lf.user_for(p)) for p in lf.TASKS},\n"
        "  'after': names(lf.Practitioner)}))\n"
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["fast"] == [True, True]
    assert found["practitioner"] == ["hello", "pdf_download", "wizard_page", "wizard_submit"]
    assert found["supervisor"] == ["review_queue"]
    assert sorted(found["tags"]) == sorted(found["practitioner"] + found["supervisor"])
    assert found["phases"] == {p: [p] for p in found["phases"]}, "one task per phase class"
    assert found["after"] == found["practitioner"], "user_for leaves the base class alone"


def test_locustfile_rejects_unknown_phase_and_missing_world() -> None:
    done = _in_child(
        "from bench import locustfile as lf\n"
        "out = {}\n"
        "try:\n    lf.user_for('nope')\nexcept ValueError as exc:\n    out['phase'] = str(exc)\n"
        "try:\n    lf.next_identity('practitioners')\n"
        "except lf.BenchSetupError as exc:\n    out['world'] = str(exc)\n"
        "lf.WORLD = {'practitioners': [{'email': 'a'}, {'email': 'b'}]}\n"
        "out['round'] = [lf.next_identity('practitioners')['email'] for _ in range(3)]\n"
        "print(json.dumps(out))\n"
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert "unknown phase" in found["phase"]
    assert "BENCH_LOCUST_WORLD" in found["world"]
    assert found["round"] == ["a", "b", "a"]


def test_locust_command_line_loads_the_locustfile() -> None:
    locust = Path(sys.executable).with_name("locust")
    if not locust.exists():
        pytest.skip("locust is not installed in this environment")
    done = subprocess.run(
        [str(locust), "-f", str(ROOT / "bench" / "locustfile.py"), "--list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Practitioner" in done.stdout and "Supervisor" in done.stdout
    assert "SignedInUser" not in done.stdout, "the abstract base is not a user class"


def test_phase_figures_count_right_answers_and_server_errors() -> None:
    from bench import run_all

    class Entry:
        num_requests, num_failures = 120, 20

        @staticmethod
        def get_response_time_percentile(q: float) -> float:
            return {0.5: 10.0, 0.95: 40.0, 0.99: 90.0}[q]

    figures = run_all._phase_figures(
        [Entry()], {200: 100, 500: 15, 0: 5}, ["boom"], 10.0, [1.0, 3.0, 0.6], 16
    )
    assert figures["rps"] == 10.0, "only right answers count towards throughput"
    assert figures["p95_ms"] == 40.0
    assert figures["server_errors_5xx"] == 15
    assert figures["errors"] == 25, "failures plus requests that got no answer"
    assert figures["client_cpu_share"] == 0.25
    assert figures["server_cpu_ms_per_request"] == 25.0, "3 s of worker CPU over 120 requests"
    assert figures["server_system_cpu_ms_per_request"] == 5.0, "the kernel's part of it"
    assert figures["failures"] == ["boom"]


def test_needed_builds_follow_the_parts() -> None:
    from bench import run_all

    args = run_all.parse_args(["--pg", ""])
    assert run_all.needed_builds(["rules", "pdf"], args) == []
    assert run_all.needed_builds(["http"], args) == ["build-review"]
    args = run_all.parse_args(["--pg", "postgresql://postgres@127.0.0.1:5432/postgres"])
    assert run_all.needed_builds(["audit", "review"], args) == [
        "build-audit",
        "build-review",
        "build-review-pg",
    ]
    args = run_all.parse_args(["--skip-review-pg"])
    assert "build-review-pg" not in run_all.needed_builds(["review"], args)


def test_report_only_needs_a_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bench import run_all

    monkeypatch.setattr(run_all, "RESULTS", tmp_path)
    monkeypatch.setattr(run_all, "ROOT", tmp_path)
    assert run_all.main(["--report-only"]) == 1
    assert "cannot read summary.json" in capsys.readouterr().err


def test_soak_memory_growth_ignores_one_sample_taken_mid_render() -> None:
    from bench import soak

    minutes = [1.5, 1.75, 2.0, 2.25, 2.5, 6.0, 9.25, 9.5, 9.75, 10.0]
    samples = [{"minute": m, "workers": {"1": 100.0}} for m in minutes]
    samples[-1]["workers"]["1"] = 160.0  # the last sample caught a PDF render
    growth = soak.memory_growth(samples, 10)
    assert growth["max_growth"] == 0.0
    assert growth["workers"][0]["single_sample_growth"] == pytest.approx(0.6)
    samples[-3]["workers"]["1"] = samples[-2]["workers"]["1"] = 120.0  # lasting growth shows
    assert soak.memory_growth(samples, 10)["max_growth"] == pytest.approx(0.2)


def test_capacity_note_gives_the_ratio_by_server_cpu_and_the_system_part() -> None:
    from bench import run_all

    runs = [
        {"wizard_get": {"server_cpu_ms_per_request": 4.0},
         "wizard_submit": {"server_cpu_ms_per_request": 10.0,
                           "server_system_cpu_ms_per_request": 1.2}},
        {"wizard_get": {"server_cpu_ms_per_request": 5.0},
         "wizard_submit": {"server_cpu_ms_per_request": 10.0}},  # older run: no split
    ]
    note = run_all._capacity_note(runs, "wizard_submit", "wizard_get")
    assert "server CPU per request 10.0 ms (system calls 1.2 ms of it)" in note
    assert note.endswith("vs wizard_get 4.5 ms: 0.45× by CPU capacity")
    assert "system calls" not in run_all._capacity_note(runs[1:], "wizard_submit", "wizard_get")


def test_settle_writes_syncs_and_the_header_says_so() -> None:
    from bench import run_all

    seconds = run_all.settle_writes("")  # no PostgreSQL data set: the sync alone
    assert isinstance(seconds, float) and seconds >= 0
    text = run_all._datasets_text({"total_wall_s": 80.0, "settle_s": 3.0, "cache": "kept"})
    assert "80 s wall for the build step, then 3 s writing them out (CHECKPOINT, sync)" in text
    assert "writing them out" not in run_all._datasets_text({"total_wall_s": 80.0})


@pytest.mark.skipif(not os.environ.get("DECISION_AID_TEST_DATABASE_URL", "").startswith(
    "postgresql"), reason="needs the PostgreSQL server (CI sets DECISION_AID_TEST_DATABASE_URL)")
def test_settle_writes_checkpoints_postgresql() -> None:
    from sqlalchemy import create_engine, text

    from bench import run_all
    from decision_aid.config import normalise_db_url

    url = os.environ["DECISION_AID_TEST_DATABASE_URL"]
    engine = create_engine(normalise_db_url(url))
    lsn = "SELECT checkpoint_lsn::text FROM pg_control_checkpoint()"
    try:
        with engine.connect() as conn:
            before = conn.exec_driver_sql(lsn).scalar()
        run_all.settle_writes(url)
        with engine.connect() as conn:
            moved = conn.execute(text(f"SELECT CAST(({lsn}) AS pg_lsn) > CAST(:before AS pg_lsn)"),
                                 {"before": before}).scalar()
    finally:
        engine.dispose()
    assert moved, "an explicit CHECKPOINT writes a new checkpoint record"


def test_each_t27_row_gets_its_own_databases_note() -> None:
    from bench import run_all

    def row(database: str) -> dict[str, Any]:
        return {"target_id": "T27", "target": "≤ 10 ms",
                "figure": f"Audit append p99, 4 writers, {database}"}

    sqlite = run_all._miss_note(row("SQLite WAL synchronous=FULL"))
    postgresql = run_all._miss_note(row("PostgreSQL"))
    assert "write_queue.py" in sqlite and "write_queue.py" not in postgresql
    assert "advisory-lock" in postgresql and "advisory-lock" not in sqlite
