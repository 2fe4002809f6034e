"""The public functions of the rules package (re-exported from rules/__init__.py)."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import engine
from .loader import DEFAULT_DIR, load
from .output import build_output
from .ruleset import RuleSet, parse_date


@functools.cache
def _default_ruleset() -> RuleSet:
    return load(DEFAULT_DIR)


def load_ruleset(directory: Path | None = None) -> RuleSet:
    """Load and validate a rule set; the default one is cached so a web app loads it once."""
    if directory is None or Path(directory).resolve() == DEFAULT_DIR:
        return _default_ruleset()
    return load(Path(directory))


def validate_facts(facts: Mapping[str, Any], ruleset: RuleSet | None = None) -> None:
    """Raise FactError (one line: fact and allowed values) if any fact breaks the contract."""
    engine.validate_facts(facts, ruleset or load_ruleset())


def evaluate(facts: Mapping[str, Any], as_at: dt.date | str,
             settings: Mapping[str, Any] | None = None, *, ruleset: RuleSet | None = None,
             with_would_change: bool = True) -> dict[str, Any]:
    """Return the spec output dict: every key present, JSON-serialisable, deterministic."""
    rs = ruleset or load_ruleset()
    clean = engine.validate_facts(facts, rs)
    date = parse_date(as_at, "as_at")
    return build_output(rs, clean, date, rs.effective_settings(settings), with_would_change)


def to_json(output: Mapping[str, Any]) -> str:
    """Canonical JSON text of an output (stable key order, so byte-identical on replay)."""
    return json.dumps(output, ensure_ascii=False, separators=(",", ":"))


def replay(output: Mapping[str, Any], facts: Mapping[str, Any], as_at: dt.date | str,
           settings: Mapping[str, Any] | None = None, *,
           ruleset: RuleSet | None = None) -> bool:
    """Re-evaluate and check the stored output (trace included) is reproduced exactly.

    A stored decision made under another rule-set digest cannot replay: the law encoded
    has changed, which is exactly what a reviewer needs to know.
    """
    rs = ruleset or load_ruleset()
    if output.get("ruleset_digest") != rs.digest:
        return False
    again = evaluate(facts, as_at, settings, ruleset=rs,
                     with_would_change=bool(output.get("would_change")))
    return to_json(again) == to_json(json.loads(to_json(output)))
