"""Typed, immutable views of the rule files.

The YAML is the source of truth; these dataclasses exist so that the Flask wizard and the
engine work with named attributes rather than raw dictionaries, and so that nothing can
mutate a loaded rule set shared between requests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

MET = "met"
NOT_MET = "not_met"
UNKNOWN = "unknown"
NOT_IN_FORCE = "not_in_force"

BOOL_TO_TEXT = {True: "yes", False: "no"}
TEXT_TO_BOOL = {"yes": True, "no": False}


@dataclass(frozen=True, slots=True)
class Option:
    """One answer a practitioner can pick."""

    value: str
    label: str
    hint: str = ""


@dataclass(frozen=True, slots=True)
class FactSpec:
    """A fact id with its allowed values; 'unsure' style values count as unknown."""

    id: str
    kind: str  # "bool" or "choice"
    values: tuple[Any, ...]
    unknown_values: tuple[str, ...]
    origin: str
    description: str

    def allows(self, value: Any) -> bool:
        """Booleans must be real booleans so that 'no' can never sneak in as truthy."""
        if self.kind == "bool":
            return isinstance(value, bool)
        return isinstance(value, str) and value in self.values

    def describe_allowed(self) -> str:
        """Human list of allowed values, used in one-line error messages."""
        if self.kind == "bool":
            return "true, false"
        return ", ".join(self.values)


@dataclass(frozen=True, slots=True)
class QuestionField:
    """One input on a question page; it sets exactly one fact."""

    fact: str
    kind: str
    label: str
    hint: str
    options: tuple[Option, ...]

    def to_fact(self, value: str) -> Any:
        """Convert a form value ('yes'/'no' or a choice) to the fact value."""
        allowed = {o.value for o in self.options}
        if value not in allowed:
            raise ValueError(f"{self.fact}: '{value}' is not one of {', '.join(sorted(allowed))}")
        return TEXT_TO_BOOL[value] if self.kind == "bool" else value

    def from_fact(self, value: Any) -> str:
        """Convert a stored fact value back to the form value."""
        if self.kind == "bool":
            return BOOL_TO_TEXT[bool(value)]
        return str(value)


@dataclass(frozen=True, slots=True)
class Question:
    """A question page in the wizard; `condition` says when it is asked."""

    id: str
    title: str
    hint: str
    why: str
    citation: str
    url: str
    fields: tuple[QuestionField, ...]
    origin: str
    condition: Mapping[str, Any] | None = None
    section: str = ""

    @property
    def facts(self) -> tuple[str, ...]:
        """The fact ids this page sets."""
        return tuple(f.fact for f in self.fields)


@dataclass(frozen=True, slots=True)
class Source:
    """A legal instrument or guidance document cited by rules."""

    id: str
    title: str
    short: str
    kind: str
    url: str


@dataclass(frozen=True, slots=True)
class Citation:
    """A pinpoint reference with its own URL, so a record stays self-contained."""

    source: str
    pinpoint: str
    url: str

    def label(self, sources: Mapping[str, Source]) -> str:
        """Short printable form such as 'DPA 2018 Sch 1 para 18'."""
        return f"{sources[self.source].short} {self.pinpoint}"


Evaluator = Callable[[Any], tuple[str, frozenset[str]]]


@dataclass(frozen=True, slots=True)
class RuleVersion:
    """A dated version of a rule; bounds may come from organisation settings."""

    valid_from: dt.date
    valid_to: dt.date | None
    from_setting: str | None
    to_setting: str | None
    citations: tuple[Citation, ...]
    when: Mapping[str, Any]
    facts_read: tuple[str, ...]
    evaluate: Evaluator = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Rule:
    """A legal test with dated versions, explanations and a verification tag."""

    id: str
    title: str
    tag: str
    topic: str
    explain: Mapping[str, str]
    versions: tuple[RuleVersion, ...]
    exceptions: tuple[str, ...] = ()
    notes: str = ""
    depends_on: tuple[str, ...] = ()
