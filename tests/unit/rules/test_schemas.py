"""Schema validation at load: both back ends validate every file and agree on what is valid."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from rules.errors import RuleSetError
from rules.loader import DEFAULT_DIR, load, read_yaml
from rules.schemas import BACKENDS, Schemas, default_backend

DEFINITIONS = read_yaml(DEFAULT_DIR / "definitions" / "50_special_category.yaml")
QUESTIONS = read_yaml(DEFAULT_DIR / "questions" / "20_practitioner.yaml")


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(DEFAULT_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def test_both_back_ends_load_the_same_rule_set(schema_backend: str) -> None:
    loaded = load(DEFAULT_DIR, schema_backend=schema_backend)
    other = load(DEFAULT_DIR, schema_backend="jsonschema")
    assert loaded.digest == other.digest and list(loaded.rules) == list(other.rules)


def test_a_broken_condition_fails_loading_naming_file_and_place(
        tmp_path: Path, schema_backend: str) -> None:
    target = _copy(tmp_path)
    path = target / "definitions" / "95_outcome.yaml"
    text = path.read_text()
    assert "{rule: art9.ok}" in text
    path.write_text(text.replace("{rule: art9.ok}", "{rule: art9.ok, fact: purpose}", 1))
    with pytest.raises(RuleSetError) as caught:
        load(target, schema_backend=schema_backend)
    (problem,) = caught.value.problems
    assert problem.startswith("95_outcome.yaml: rules/"), problem
    assert "/versions/0/when/" in problem


def test_yaml_values_that_are_not_json_fail_loading_cleanly(
        tmp_path: Path, schema_backend: str) -> None:
    target = _copy(tmp_path)
    path = target / "definitions" / "90_transparency.yaml"
    text = path.read_text()
    assert "\n    tag: V" in text
    path.write_text(text.replace("\n    tag: V", "\n    notes: !!binary aGVsbG8=\n    tag: V", 1))
    with pytest.raises(RuleSetError, match=r"^90_transparency\.yaml: "):
        load(target, schema_backend=schema_backend)


def test_every_problem_is_reported_in_file_order(schema_backend: str) -> None:
    broken = copy.deepcopy(DEFINITIONS)
    broken["rules"][3]["tag"] = "maybe"
    broken["rules"][1]["title"] = 7
    problems = Schemas(DEFAULT_DIR, schema_backend).check("definitions")(broken)
    assert sorted(path for path, _ in problems) == [["rules", 1, "title"], ["rules", 3, "tag"]]


def test_a_schema_that_does_not_exist_is_a_ruleset_error(schema_backend: str) -> None:
    with pytest.raises(RuleSetError, match="no schema urn:rules:nothing"):
        Schemas(DEFAULT_DIR, schema_backend).check("nothing")


def test_backend_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RULES_SCHEMA_BACKEND", "jsonschema")
    assert default_backend() == "jsonschema"
    monkeypatch.setenv("RULES_SCHEMA_BACKEND", "fast")
    with pytest.raises(RuleSetError, match="allowed: jsonschema_rs, jsonschema"):
        default_backend()


# ---- the two back ends must agree on validity, whatever the defect --------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(
        ["", "x", "met", "V", "2026-02-05", "https://example.org", "a.b"]),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(["fact", "is", "in", "rule", "all", "any", "not",
                                       "const", "id", "title", "tag", "zzz"]), inner,
                      max_size=3),
    max_leaves=6)


def _places(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, child in node.items():
            found += _places(child, (*path, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += _places(child, (*path, index))
    return found


PLACES = {"definitions": _places(DEFINITIONS), "questions": _places(QUESTIONS)}
SOURCES = {"definitions": DEFINITIONS, "questions": QUESTIONS}
SCHEMAS = {backend: Schemas(DEFAULT_DIR, backend) for backend in BACKENDS
           if backend == "jsonschema" or default_backend() == "jsonschema_rs"}


def _mutate(data: Any, path: tuple[Any, ...], value: Any, mode: str) -> Any:
    if not path:
        return value
    data = copy.deepcopy(data)
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    if mode == "delete":
        del parent[path[-1]]
    elif mode == "extra" and isinstance(parent, dict):
        parent[f"zz_{path[-1]}"] = value
    else:
        parent[path[-1]] = value
    return data


@pytest.mark.skipif(default_backend() != "jsonschema_rs",
                    reason="the jsonschema-rs back end is not in use")
@hsettings(max_examples=max(30, hsettings().max_examples))
@given(st.sampled_from(["definitions", "questions"]), st.data(), json_values,
       st.sampled_from(["replace", "delete", "extra"]))
def test_both_back_ends_agree_on_validity(kind: str, data: st.DataObject, value: Any,
                                          mode: str) -> None:
    path = data.draw(st.sampled_from(PLACES[kind]))
    instance = _mutate(SOURCES[kind], path, value, mode)
    fast = SCHEMAS["jsonschema_rs"].check(kind)(instance)
    slow = SCHEMAS["jsonschema"].check(kind)(instance)
    assert bool(fast) == bool(slow), (path, mode, value, fast, slow)
    assert {tuple(p) for p, _ in fast} == {tuple(p) for p, _ in slow}, (path, mode, value)
