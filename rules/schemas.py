"""JSON Schema validation of the rule files: one compiled validator per schema, two back ends.

Every rule file is validated against its Draft 2020-12 schema on every load; that is not
negotiable (a half-right rule set must never reach a practitioner). What is negotiable is
the cost. The pure-Python `jsonschema` spent about 60% of start-up in validation, and merely
importing it costs 0.3 to 2.5 s cold, because it imports every installed format-checker
extra (rfc3987-syntax compiles a grammar at import time). `jsonschema-rs` implements the
same draft in Rust: it imports in milliseconds and validates the whole rule set in well under
a millisecond. So, like PyYAML's CSafeLoader, it is used when installed, and `jsonschema`
(imported only then) otherwise. Both apply the same schemas with formats as annotations only
(as `jsonschema` does without a format checker); only the wording of messages differs.
`RULES_SCHEMA_BACKEND=jsonschema` forces the pure-Python back end.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .errors import RuleSetError

BACKENDS = ("jsonschema_rs", "jsonschema")
MAX_REPORTED = 10
Problem = tuple[list[str | int], str]  # (path inside the file, message)
Check = Callable[[Any], list[Problem]]


def default_backend() -> str:
    """The configured back end, else jsonschema_rs when it is installed."""
    chosen = os.environ.get("RULES_SCHEMA_BACKEND", "").strip()
    if chosen:
        if chosen not in BACKENDS:
            raise RuleSetError(f"RULES_SCHEMA_BACKEND={chosen!r}; allowed: {', '.join(BACKENDS)}")
        return chosen
    try:
        import jsonschema_rs  # noqa: F401 (optional accelerator: is it installed?)
    except ImportError:
        return "jsonschema"
    return "jsonschema_rs"


class Schemas:
    """The schemas of a rule-set directory; each validator is compiled once, on first use."""

    def __init__(self, directory: Path, backend: str | None = None) -> None:
        self.backend = backend or default_backend()
        if self.backend not in BACKENDS:
            raise RuleSetError(f"unknown schema back end {self.backend!r}")
        self.schemas: dict[str, dict[str, Any]] = {}
        for path in sorted((directory / "schema").glob("*.schema.json")):
            schema = json.loads(path.read_text(encoding="utf-8"))
            self.schemas[schema["$id"]] = schema
        self._registry: Any = None
        self._checks: dict[str, Check] = {}

    def check(self, name: str) -> Check:
        """A function returning every problem of an instance against `urn:rules:<name>`."""
        hit = self._checks.get(name)
        if hit is None:
            uri = f"urn:rules:{name}"
            if uri not in self.schemas:
                raise RuleSetError(f"no schema {uri} in rules/schema")
            build = _rs_check if self.backend == "jsonschema_rs" else _py_check
            hit = self._checks[name] = build(self, uri)
        return hit


def _rs_check(schemas: Schemas, uri: str) -> Check:
    import jsonschema_rs  # optional accelerator

    if schemas._registry is None:
        schemas._registry = jsonschema_rs.Registry(list(schemas.schemas.items()))
    try:
        validator = jsonschema_rs.Draft202012Validator(
            schemas.schemas[uri], registry=schemas._registry, validate_formats=False)
    except (ValueError, jsonschema_rs.ReferencingError) as exc:
        raise RuleSetError(f"schema {uri} is invalid: {exc}") from exc

    def check(instance: Any) -> list[Problem]:
        try:
            return [(list(e.instance_path), e.message) for e in validator.iter_errors(instance)]
        except ValueError as exc:  # YAML tags such as !!binary or !!set are not JSON data
            return [([], f"not plain JSON data ({exc})")]

    return check


def _py_check(schemas: Schemas, uri: str) -> Check:
    import jsonschema  # slow to import: only when it is the back end
    from referencing import Registry, Resource

    if schemas._registry is None:
        schemas._registry = Registry().with_resources(
            (sid, Resource.from_contents(s)) for sid, s in schemas.schemas.items())
    validator = jsonschema.Draft202012Validator(schemas.schemas[uri],
                                                registry=schemas._registry)

    def check(instance: Any) -> list[Problem]:
        return [(list(e.absolute_path), e.message) for e in validator.iter_errors(instance)]

    return check


def report(problems: Sequence[Problem], label: str) -> list[str]:
    """One line per problem, in file order, at most MAX_REPORTED of them."""
    ordered = sorted(problems, key=lambda p: p[0])
    return [f"{label}: {'/'.join(map(str, path)) or '(whole file)'}: {message}"
            for path, message in ordered[:MAX_REPORTED]]
