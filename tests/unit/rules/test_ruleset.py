"""Rule-set validation, citations, coverage and the version/digest guard."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import rules
from rules.errors import RuleSetError
from rules.loader import DEFAULT_DIR, compute_digest, load
from rules.scenarios import coverage, coverage_gaps
from rules.versioning import digest_problems, recorded


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(DEFAULT_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def test_default_ruleset_is_cached(rs: rules.RuleSet) -> None:
    assert rules.load_ruleset() is rs
    assert rs.digest.startswith("sha256:") and len(rs.digest) == 71


def test_recorded_digest_matches_version_and_rule_files(rs: rules.RuleSet) -> None:
    assert digest_problems(rs) == []
    assert recorded(rs)[-1] == (rs.version, rs.digest)


def test_changing_a_rule_without_a_version_bump_is_detected(tmp_path: Path) -> None:
    target = _copy(tmp_path)
    path = target / "definitions" / "90_transparency.yaml"
    path.write_text(path.read_text().replace("Tell the person or family\n",
                                             "Tell the person or their family\n"))
    changed = load(target)
    assert changed.digest != compute_digest(DEFAULT_DIR)
    assert any("without a version bump" in p for p in digest_problems(changed))


def test_every_rule_version_has_a_citation_with_a_url_and_a_tag(rs: rules.RuleSet) -> None:
    for rule in rs.rules.values():
        assert rule.tag in {"V", "V2", "U"}
        assert set(rule.explain) == {"met", "not_met", "unknown"}
        for version in rule.versions:
            assert version.citations, rule.id
            for cite in version.citations:
                assert cite.url.startswith("https://"), (rule.id, cite)


def test_unverified_dated_rules_say_so_in_their_notes(rs: rules.RuleSet) -> None:
    for rid in ("ca2004.s16la", "ca2004.s16la.conditions"):
        rule = rs.rules[rid]
        assert rule.tag == "U"
        assert "s16la_commencement" in rule.notes
        assert rule.versions[0].from_setting == "s16la_commencement"


def test_every_output_id_in_the_spec_is_a_rule(rs: rules.RuleSet) -> None:
    lists = rs.conclusions["lists"]
    spec_ids = {
        "lawful_bases": 11, "special_category_conditions": 9,
        "part3_conditions": 3, "duties": 5}
    for key, count in spec_ids.items():
        assert len(lists[key]["rules"]) == count
        assert all(r in rs.rules for r in lists[key]["rules"])


def test_coverage_is_complete(rs: rules.RuleSet) -> None:
    assert coverage_gaps(rs, coverage(rs)) == []


@pytest.mark.parametrize(("file", "old", "new", "message"), [
    ("definitions/95_outcome.yaml", "{rule: art9.ok}", "{rule: art9.okay}", "unknown rule"),
    ("definitions/95_outcome.yaml", "source: gmc_confidentiality", "source: nowhere",
     "unknown source"),
    ("definitions/20_regime.yaml", "tag: V\n", "tag: maybe\n", "is not one of"),
    ("definitions/85_rights_and_purpose.yaml", "valid_to: 2026-02-04",
     "valid_to: 2026-01-01", "match the default"),
    ("definitions/10_organisation.yaml", "{rule: org.public_authority}\n",
     "{rule: org.public_authority_in_tasks}\n", "cycle"),
    ("questions/20_practitioner.yaml", "- id: immediate_risk", "- id: immediate_risk_now",
     "first practitioner question must be 'immediate_risk'"),
    ("questions/20_practitioner.yaml", "{fact: protected_person_age, is: adult}",
     "{fact: protected_person_age, is: elderly}", "outside under_18, adult"),
])
def test_defects_are_rejected(tmp_path: Path, file: str, old: str, new: str,
                              message: str, schema_backend: str) -> None:
    target = _copy(tmp_path)
    path = target / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(RuleSetError, match=message):
        load(target, schema_backend=schema_backend)


def test_a_version_gap_is_rejected(tmp_path: Path) -> None:
    target = _copy(tmp_path)
    path = target / "definitions" / "85_rights_and_purpose.yaml"
    text = path.read_text() + """
  - id: gap.example
    title: A rule with a gap between versions
    tag: U
    explain: {met: yes it is, not_met: no it is not, unknown: not known yet}
    versions:
      - valid_from: 2018-05-25
        valid_to: 2019-01-01
        citations: [{source: uk_gdpr, pinpoint: "Art 6", url: "https://example.org/x"}]
        when: {const: met}
      - valid_from: 2020-01-01
        citations: [{source: uk_gdpr, pinpoint: "Art 6", url: "https://example.org/x"}]
        when: {const: met}
"""
    path.write_text(text)
    with pytest.raises(RuleSetError, match="gap"):
        load(target)


def test_bad_yaml_is_a_ruleset_error(tmp_path: Path) -> None:
    target = _copy(tmp_path)
    (target / "definitions" / "95_outcome.yaml").write_text("topic: [unclosed\n")
    with pytest.raises(RuleSetError, match="invalid YAML"):
        load(target)


def test_package_does_not_import_flask_or_the_app() -> None:
    for path in DEFAULT_DIR.glob("*.py"):
        text = path.read_text()
        assert "import flask" not in text.lower()
        assert "decision_aid" not in text


def test_modules_stay_small() -> None:
    for path in DEFAULT_DIR.glob("*.py"):
        assert len(path.read_text().splitlines()) <= 500, path.name
