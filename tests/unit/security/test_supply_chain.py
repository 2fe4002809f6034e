"""The SBOM lists every installed distribution; the advisory gate fails on overdue advisories."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "bin" / "supply-chain"


def load_script():  # type: ignore[no-untyped-def]
    loader = importlib.machinery.SourceFileLoader("supply_chain", str(SCRIPT))
    spec = importlib.util.spec_from_loader("supply_chain", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_sbom_lists_every_installed_distribution(tmp_path: Path) -> None:
    out = tmp_path / "sbom.json"
    result = subprocess.run([sys.executable, str(SCRIPT), "sbom", "--out", str(out)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    bom = json.loads(out.read_text())
    listed = {c["name"].lower().replace("_", "-") for c in bom["components"]}
    wanted = {d.metadata["Name"].lower().replace("_", "-") for d in metadata.distributions()}
    wanted -= {"decision-aid"}  # the project itself is the SBOM's subject, not a component
    assert bom["bomFormat"] == "CycloneDX"
    assert wanted - listed == set()


def test_committed_snapshot_has_no_overdue_advisory() -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), "advisories", "--snapshot",
                             str(ROOT / "docs/security/advisories.json")], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize(("severity", "age_days", "overdue"), [
    ("critical", 15, True), ("critical", 14, False), ("high", 30, True),
    ("medium", 60, False), ("medium", 91, True),
])
def test_remediation_windows(severity: str, age_days: int, overdue: bool) -> None:
    import datetime as dt

    module = load_script()
    today = dt.date(2026, 11, 29)
    snapshot = {"advisories": [{"id": "TEST-1", "package": "Flask", "affected": ["3.1.3"],
                                "severity": severity, "published": (today - dt.timedelta(days=age_days)).isoformat()}]}
    assert bool(module.overdue(snapshot, {"flask": "3.1.3"}, today)) is overdue
    assert module.overdue(snapshot, {"flask": "3.1.4"}, today) == []


def test_unreadable_snapshot_exits_2_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = subprocess.run([sys.executable, str(SCRIPT), "advisories", "--snapshot", str(bad)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
