"""Rule-set versioning: the digest recorded for each VERSION in rules/DIGEST.

rules/DIGEST is append-only, one line per released version: "<version> sha256:<hex>". The
last line must match rules/VERSION and the digest computed from the rule files, so changing
a rule without bumping the version (and adding a changelog entry) fails the check and tests.
"""

from __future__ import annotations

from .ruleset import RuleSet


def recorded(rs: RuleSet) -> list[tuple[str, str]]:
    """(version, digest) pairs from rules/DIGEST, oldest first."""
    path = rs.directory / "DIGEST"
    if not path.exists():
        return []
    lines = [ln.split() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    return [(parts[0], parts[1]) for parts in lines if len(parts) == 2]


def digest_problems(rs: RuleSet) -> list[str]:
    """Every reason the recorded version/digest does not match the rule files."""
    history = recorded(rs)
    if not history:
        return ["rules/DIGEST is missing or empty"]
    problems = []
    version, digest = history[-1]
    if version != rs.version:
        problems.append(f"rules/VERSION is {rs.version} but the last DIGEST entry is {version}")
    if digest != rs.digest:
        problems.append(f"rule files changed (digest {rs.digest}) without a version bump; "
                        "bump rules/VERSION, add a CHANGELOG entry and a DIGEST line")
    versions = [v for v, _ in history]
    if len(set(versions)) != len(versions):
        problems.append("rules/DIGEST lists a version twice")
    changelog = (rs.directory / "CHANGELOG.md").read_text(encoding="utf-8")
    if f"## {rs.version}" not in changelog:
        problems.append(f"rules/CHANGELOG.md has no '## {rs.version}' entry")
    return problems
