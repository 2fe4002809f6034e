"""The command line contract: evaluate FILE|- and check (--coverage)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from rules.__main__ import main

ROOT = Path(__file__).resolve().parents[3]


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rules", *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=120, check=False)


def test_evaluate_file(tmp_path: Path, charity_child) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "in.json"
    path.write_text(json.dumps({"as_at": "2026-03-01", "facts": charity_child,
                                "settings": {"s16la_commencement": "2026-09-30"}}))
    result = _run("evaluate", str(path))
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["recommendation"] == "lawful_to_share"


def _run_in_process(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                    stdin: str, *args: str) -> tuple[int, str, str]:
    """The same entry point as `python -m rules`, without a subprocess (faster)."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_evaluate_stdin(monkeypatch: pytest.MonkeyPatch,
                        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run_in_process(monkeypatch, capsys, json.dumps(
        {"as_at": "2026-03-01", "facts": {"immediate_risk": True}}), "evaluate", "-")
    assert code == 0
    assert json.loads(out)["recommendation"] == "share_urgently"


@pytest.mark.parametrize(("payload", "fragment"), [
    ('{"as_at": "2026-03-01", "facts": {"colour": "red"}}', "unknown fact 'colour'"),
    ('{"as_at": "2026-03-01", "facts": {"trigger": "maybe"}}', "proactive, request_received"),
    ('{"as_at": "1 March 2026", "facts": {}}', "not a valid date"),
    ('{"as_at": "2026-03-01", "facts": {}', "invalid JSON"),
    ('{"facts": {}}', "needs 'as_at'"),
    ('[1, 2]', "must be a JSON object"),
    ('{"as_at": "2026-03-01", "facts": {}, "extra": 1}', "unknown input key 'extra'"),
])
def test_bad_input_exits_2_with_one_line(monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str],
                                         payload: str, fragment: str) -> None:
    code, out, err = _run_in_process(monkeypatch, capsys, payload, "evaluate", "-")
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0]


def test_bad_input_through_the_real_command_has_no_traceback() -> None:
    result = _run("evaluate", "-", stdin='{"as_at": "2026-03-01", "facts": {"x": 1}}')
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_missing_file_exits_2(monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run_in_process(monkeypatch, capsys, "", "evaluate", "/nonexistent/x.json")
    assert code == 2 and "cannot read" in err


def test_check_and_coverage_pass() -> None:
    result = _run("check", "--coverage")
    assert result.returncode == 0, result.stderr
    assert "0 failing" in result.stdout
    assert "(100.0%)" in result.stdout
