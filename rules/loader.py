"""Load, validate and compile the YAML rule set.

Every file is validated against its JSON Schema first, then cross-checked (ids resolve, no
cycles, no overlapping or gapped versions, every fact is asked and used). A defect raises
RuleSetError: a rule set that is half right must never reach a practitioner.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .conditions import compile_condition, references
from .errors import RuleSetError
from .model import Citation, FactSpec, Rule, RuleVersion, Source
from .questions_load import build_questions
from .ruleset import RuleSet, SettingSpec
from .schemas import Schemas, report
from .validate import check_ruleset

DEFAULT_DIR = Path(__file__).resolve().parent
DIGEST_PARTS = ("facts.yaml", "settings.yaml", "sources.yaml", "conclusions.yaml",
                "questions", "definitions")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def plain(value: Any) -> Any:
    """Dates become ISO strings so that schema checks and digests see plain JSON."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def read_yaml(path: Path) -> Any:
    """Parse one YAML file safely; a syntax error is a rule-set defect."""
    try:
        with path.open(encoding="utf-8") as handle:
            return plain(yaml.load(handle, Loader=_Loader))  # noqa: S506 (safe loader)
    except yaml.YAMLError as exc:
        raise RuleSetError(f"{path.name}: invalid YAML: {exc}") from exc


def _registry(directory: Path, backend: str | None = None) -> Schemas:
    return Schemas(directory, backend)


def validate_file(data: Any, schema_name: str, registry: Schemas, label: str) -> None:
    """Validate against a named schema and report every error, not just the first."""
    problems = registry.check(schema_name)(data)
    if problems:
        raise RuleSetError(report(problems, label))


def _files(directory: Path, sub: str) -> list[Path]:
    return sorted((directory / sub).glob("*.yaml"))


def compute_digest(directory: Path, parsed: Mapping[Path, Any] | None = None) -> str:
    """sha256 over canonical JSON of every rule file (not scenarios, schemas or code)."""
    parsed = parsed or {}
    hasher = hashlib.sha256()
    for part in DIGEST_PARTS:
        target = directory / part
        paths = _files(directory, part) if target.is_dir() else [target]
        for path in paths:
            data = parsed[path] if path in parsed else read_yaml(path)
            canonical = json.dumps(data, sort_keys=True, separators=(",", ":"),
                                   ensure_ascii=False)
            hasher.update(path.relative_to(directory).as_posix().encode() + b"\0")
            hasher.update(canonical.encode("utf-8") + b"\0")
    return "sha256:" + hasher.hexdigest()


def _facts(data: Mapping[str, Any]) -> dict[str, FactSpec]:
    specs: dict[str, FactSpec] = {}
    for item in data["facts"]:
        values = (True, False) if item["type"] == "bool" else tuple(item["values"])
        if item["id"] in specs:
            raise RuleSetError(f"fact '{item['id']}' declared twice")
        specs[item["id"]] = FactSpec(item["id"], item["type"], values,
                                     tuple(item.get("unknown_values", ())), item["origin"],
                                     item["description"])
    return specs


def _settings(data: Mapping[str, Any]) -> dict[str, SettingSpec]:
    return {s["id"]: SettingSpec(s["id"], dt.date.fromisoformat(s["default"]), s["tag"],
                                 s["description"], Citation(**s["citation"]))
            for s in data["settings"]}


def _sources(data: Mapping[str, Any]) -> dict[str, Source]:
    return {sid: Source(sid, s["title"], s["short"], s["kind"], s["url"])
            for sid, s in data.items()}


def _version(raw: Mapping[str, Any], facts: Mapping[str, FactSpec]) -> RuleVersion:
    read, _ = references(raw["when"])
    to = raw.get("valid_to")
    return RuleVersion(
        valid_from=dt.date.fromisoformat(raw["valid_from"]),
        valid_to=dt.date.fromisoformat(to) if to else None,
        from_setting=raw.get("from_setting"), to_setting=raw.get("to_setting"),
        citations=tuple(Citation(**c) for c in raw["citations"]),
        when=raw["when"], facts_read=tuple(f for f in facts if f in read),
        evaluate=compile_condition(raw["when"], facts))


def _rule(raw: Mapping[str, Any], topic: str, facts: Mapping[str, FactSpec]) -> Rule:
    deps: set[str] = set(raw.get("exceptions", ()))
    for version in raw["versions"]:
        deps |= references(version["when"])[1]
    return Rule(id=raw["id"], title=raw["title"], tag=raw["tag"], topic=topic,
                explain=raw["explain"], notes=raw.get("notes", ""),
                exceptions=tuple(raw.get("exceptions", ())), depends_on=tuple(sorted(deps)),
                versions=tuple(_version(v, facts) for v in raw["versions"]))


def _rules(directory: Path, registry: Schemas, facts: Mapping[str, FactSpec],
           parsed: dict[Path, Any]) -> dict[str, Rule]:
    rules: dict[str, Rule] = {}
    for path in _files(directory, "definitions"):
        data = parsed[path] = read_yaml(path)
        validate_file(data, "definitions", registry, path.name)
        for raw in data["rules"]:
            if raw["id"] in rules:
                raise RuleSetError(f"{path.name}: rule '{raw['id']}' declared twice")
            rules[raw["id"]] = _rule(raw, data["topic"], facts)
    return rules


def _load_part(directory: Path, name: str, registry: Schemas,
               parsed: dict[Path, Any]) -> Any:
    path = directory / f"{name}.yaml"
    data = parsed[path] = read_yaml(path)
    validate_file(data, name, registry, f"{name}.yaml")
    return data


def load(directory: Path, *, schema_backend: str | None = None) -> RuleSet:
    """Load and fully validate a rule set directory (schema_backend: see rules.schemas)."""
    registry = _registry(directory, schema_backend)
    parsed: dict[Path, Any] = {}
    facts = _facts(_load_part(directory, "facts", registry, parsed))
    settings = _settings(_load_part(directory, "settings", registry, parsed))
    sources = _sources(_load_part(directory, "sources", registry, parsed))
    conclusions = _load_part(directory, "conclusions", registry, parsed)
    raw_questions: list[dict[str, Any]] = []
    for path in _files(directory, "questions"):
        data = parsed[path] = read_yaml(path)
        validate_file(data, "questions", registry, path.name)
        raw_questions.extend(data)
    rules = _rules(directory, registry, facts, parsed)
    questions, question_evals = build_questions(raw_questions, facts)
    version = (directory / "VERSION").read_text(encoding="utf-8").strip()
    digest = compute_digest(directory, parsed)
    ruleset = RuleSet(directory=directory, version=version, digest=digest, facts=facts,
                      settings=settings, sources=sources, rules=rules,
                      questions=questions, conclusions=conclusions,
                      question_conditions=question_evals)
    check_ruleset(ruleset)
    return ruleset
