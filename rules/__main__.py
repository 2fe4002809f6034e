"""Command line: ``python -m rules evaluate FILE|-`` and ``python -m rules check``.

Bad input to ``evaluate`` exits 2 with one line naming the problem and the allowed values,
never a traceback, so that scripts and other systems can rely on the contract.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from .api import evaluate, load_ruleset
from .errors import FactError, RuleSetError
from .loader import DEFAULT_DIR
from .ruleset import RuleSet
from .scenarios import Results, coverage, coverage_gaps, is_constant, run_all
from .versioning import digest_problems

INPUT_KEYS = ("as_at", "facts", "settings")


def _fail(message: str, code: int = 2) -> int:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return code


def _read_input(source: str) -> dict[str, Any]:
    try:
        text = sys.stdin.read() if source == "-" else open(source, encoding="utf-8").read()
    except OSError as exc:
        raise FactError(f"cannot read {source}: {exc.strerror}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FactError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") \
            from exc
    if not isinstance(data, dict):
        raise FactError("input must be a JSON object with keys as_at, facts, settings")
    extra = sorted(set(data) - set(INPUT_KEYS))
    if extra:
        raise FactError(f"unknown input key '{extra[0]}'; allowed keys: {', '.join(INPUT_KEYS)}")
    if "as_at" not in data or "facts" not in data:
        raise FactError("input needs 'as_at' (YYYY-MM-DD) and 'facts' (object)")
    if data.get("settings") is not None and not isinstance(data["settings"], dict):
        raise FactError("settings must be a JSON object")
    return data


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Evaluate one input document and print the output JSON."""
    try:
        data = _read_input(args.file)
        out = evaluate(data["facts"], data["as_at"], data.get("settings"),
                       with_would_change=not args.no_would_change)
    except FactError as exc:
        return _fail(str(exc))
    except RuleSetError as exc:
        return _fail(f"rule set invalid: {exc}", 1)
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


def _report_coverage(rs: RuleSet, results: Results) -> int:
    seen = coverage(rs, results)
    gaps = coverage_gaps(rs, seen)
    countable = [k for k in seen if not is_constant(rs, k[0])]
    covered = len(countable) - len(gaps)
    for (rid, index), outcomes in sorted(seen.items()):
        mark = "constant" if is_constant(rs, rid) else (
            "ok" if {"met", "not_met"} <= outcomes else "GAP")
        print(f"{mark:8} {rid} v{index + 1}: {', '.join(sorted(outcomes)) or '-'}")
    print(f"coverage: {covered}/{len(countable)} rule versions met and not met "
          f"({100 * covered / max(len(countable), 1):.1f}%)")
    return 0 if not gaps else 1


def cmd_check(args: argparse.Namespace) -> int:
    """Validate the rule set, the digest record and every scenario."""
    try:
        rs = load_ruleset(DEFAULT_DIR)
        results = list(run_all(rs))
    except RuleSetError as exc:
        for problem in exc.problems:
            print(f"defect: {problem}", file=sys.stderr)
        return 1
    failures = [(s, p) for s, _, p in results if p]
    for scenario, problems in failures:
        print(f"scenario failed: {scenario.file}: {scenario.name}", file=sys.stderr)
        for problem in problems:
            print(f"    {problem}", file=sys.stderr)
    version_problems = digest_problems(rs)
    for problem in version_problems:
        print(f"defect: {problem}", file=sys.stderr)
    print(f"rule set {rs.version} {rs.digest}: {len(rs.rules)} rules, "
          f"{len(rs.questions)} questions, {len(results)} scenarios, "
          f"{len(failures)} failing")
    status = 1 if failures or version_problems else 0
    if args.coverage:
        status = max(status, _report_coverage(rs, results))
    return status


def cmd_digest(args: argparse.Namespace) -> int:
    """Print the version and computed digest (for recording in rules/DIGEST)."""
    rs = load_ruleset(DEFAULT_DIR)
    print(f"{rs.version} {rs.digest}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and dispatch."""
    parser = argparse.ArgumentParser(prog="python -m rules")
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("evaluate", help="evaluate a JSON input file, or - for stdin")
    ev.add_argument("file")
    ev.add_argument("--no-would-change", action="store_true")
    ev.set_defaults(func=cmd_evaluate)
    ck = sub.add_parser("check", help="validate the rule set and run the scenarios")
    ck.add_argument("--coverage", action="store_true")
    ck.set_defaults(func=cmd_check)
    dg = sub.add_parser("digest", help="print version and rule-set digest")
    dg.set_defaults(func=cmd_digest)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except BrokenPipeError:  # e.g. piped into `head`: not an error worth a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
