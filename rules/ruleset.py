"""The loaded rule set and date resolution.

Rule versions are dated; some bounds come from organisation settings because the law leaves
the date uncertain (for example the Children Act 2004 s16LA commencement). Resolving the
bounds here keeps that policy in one place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import FactError
from .model import Citation, Evaluator, FactSpec, Question, Rule, RuleVersion, Source

ONE_DAY = dt.timedelta(days=1)
VersionEntry = tuple[RuleVersion | None, Rule]
_VERSION_TABLES = 32  # resolved tables kept per rule set (each is one dict of ~100 entries)


@dataclass(frozen=True, slots=True)
class SettingSpec:
    """A configurable date with its default, citation and verification tag."""

    id: str
    default: dt.date
    tag: str
    description: str
    citation: Citation


@dataclass(eq=False)
class RuleSet:
    """Everything the engine and the wizard need; treat as read-only."""

    directory: Path
    version: str
    digest: str
    facts: dict[str, FactSpec]
    settings: dict[str, SettingSpec]
    sources: dict[str, Source]
    rules: dict[str, Rule]
    questions: list[Question]
    conclusions: Mapping[str, Any]
    question_conditions: dict[str, Evaluator | None] = field(repr=False)
    step_cache: dict[tuple[str, int], Any] = field(default_factory=dict, repr=False)
    derived: dict[str, Any] = field(default_factory=dict, repr=False)  # lazily, for speed
    version_tables: dict[tuple[Any, ...], dict[str, VersionEntry]] = field(
        default_factory=dict, repr=False)

    def effective_settings(self, settings: Mapping[str, Any] | None) -> dict[str, dt.date]:
        """Merge caller settings over defaults; reject unknown names and bad dates."""
        result = {sid: spec.default for sid, spec in self.settings.items()}
        for key, value in (settings or {}).items():
            if key not in self.settings:
                raise FactError(f"unknown setting '{key}'; allowed settings: "
                                f"{', '.join(self.settings)}")
            result[key] = parse_date(value, f"setting '{key}'")
        return result

    def version_at(self, rule: Rule, as_at: dt.date,
                   settings: Mapping[str, dt.date]) -> RuleVersion | None:
        """The version in force on the decision date, or None (not in force)."""
        for version in rule.versions:
            if version.from_setting or version.to_setting:
                start, end = bounds(version, settings)
            else:
                start, end = version.valid_from, version.valid_to
            if start <= as_at and (end is None or as_at <= end):
                return version
        return None

    def versions_at(self, as_at: dt.date,
                    settings: Mapping[str, dt.date]) -> dict[str, VersionEntry]:
        """Per rule id, (the version in force or None, the rule): resolved once per date and
        settings instead of once per rule look-up, which 'what would change' repeats for
        every alternative. Kept for a few recent keys (a server sees today's date and one
        organisation's settings)."""
        key = (as_at, *settings.items())
        table = self.version_tables.get(key)
        if table is None:
            table = {rid: (self.version_at(rule, as_at, settings), rule)
                     for rid, rule in self.rules.items()}
            if len(self.version_tables) >= _VERSION_TABLES:
                self.version_tables.clear()
            self.version_tables[key] = table
        return table


def bounds(version: RuleVersion,
           settings: Mapping[str, dt.date]) -> tuple[dt.date, dt.date | None]:
    """Effective (from, to) of a version; a to_setting ends the day before that date."""
    start = settings[version.from_setting] if version.from_setting else version.valid_from
    end = version.valid_to
    if version.to_setting:
        end = settings[version.to_setting] - ONE_DAY
    return start, end


def parse_date(value: Any, what: str) -> dt.date:
    """Accept a date or an ISO 'YYYY-MM-DD' string; anything else is a FactError."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value) if len(value) == 10 else _bad(value, what)
        except ValueError:
            pass
    return _bad(value, what)


def _bad(value: Any, what: str) -> dt.date:
    raise FactError(f"{what}: {value!r} is not a valid date; use YYYY-MM-DD")
