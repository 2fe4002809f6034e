"""The bench scripts import and parse their arguments; the report code handles missing parts.

No timing is measured or asserted here: `make bench` and `make soak` measure, `make test` only
checks that they can start.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OWN_SCRIPTS = ("run_all.py", "soak.py")
OTHER_SCRIPTS = ("bench_audit.py", "bench_pdf.py", "bench_wizard.py", "bench_review_queries.py")


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


def test_soak_memory_growth_window() -> None:
    from bench import soak

    samples = [
        {"minute": m, "workers": {"1": 100.0 + m, "2": 100.0}} for m in (0.0, 0.5, 2.0, 6.0, 10.0)
    ]
    growth = soak.memory_growth(samples, 10)
    assert growth["from_minute"] == 2.0 and growth["to_minute"] == 10.0
    assert growth["max_growth"] == pytest.approx(110 / 102 - 1, abs=1e-4)
    assert soak.memory_growth(samples[:1], 10)["max_growth"] is None
