"""Canonical bytes equal RFC 8785 (JCS) output; floats, NaN, unsafe integers refused (T17)."""

from __future__ import annotations

import json
import os

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from decision_aid.audit.canonical import MAX_SAFE_INTEGER, CanonicalisationError, canonical_bytes
from decision_aid.audit.chain import HASH_TAG, build_payload, entry_hash, header_for

EXAMPLES = 10_000 if os.environ.get("HYPOTHESIS_PROFILE") == "deep" else 200

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)  # emoji, controls, etc.
leaves = st.none() | st.booleans() | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER) | text
json_values = st.recursive(
    leaves, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=EXAMPLES, deadline=None)
@given(json_values)
def test_bytes_equal_rfc8785(value) -> None:
    stored = canonical_bytes(value)
    assert stored == rfc8785.dumps(value)
    assert stored == rfc8785.dumps(json.loads(stored))


def test_keys_sort_by_utf16_code_units() -> None:
    value = {"\U0001f600": 1, "\ufb01": 2, "a": 3}  # astral sorts before U+FB01 in UTF-16
    assert canonical_bytes(value) == rfc8785.dumps(value)
    assert canonical_bytes(value).index("😀".encode()) < canonical_bytes(value).index("ﬁ".encode())


@pytest.mark.parametrize("bad", [
    1.0, float("nan"), float("inf"), MAX_SAFE_INTEGER + 1, -MAX_SAFE_INTEGER - 1,
    {"k": [0.5]}, {1: "int key"}, {"s": "\ud800"}, b"bytes", {"set"},
])
def test_unsafe_values_are_refused(bad) -> None:
    with pytest.raises(CanonicalisationError):
        canonical_bytes(bad)


def test_entry_hash_starts_with_the_version_tag() -> None:
    import hashlib

    prev = "ab" * 32
    assert HASH_TAG.startswith(b"decision-aid/audit-event/v1")
    expected = hashlib.sha256(HASH_TAG + bytes.fromhex(prev) + b"{}").hexdigest()
    assert entry_hash(prev, b"{}") == expected


optional_ref = st.none() | st.text(min_size=1, max_size=20)


@settings(max_examples=EXAMPLES // 4, deadline=None)
@given(optional_ref, optional_ref, optional_ref, st.text(min_size=1, max_size=20),
       st.integers(1, 2**40), optional_ref)
def test_the_column_prefix_is_exact(actor_id, case_ref, decision_ref, event_type, seq, other):
    """The verifier's prefix check accepts the true columns and rejects any other value."""
    fields = dict(actor_id=actor_id, case_ref=case_ref, decision_ref=decision_ref,
                  event_type=event_type, occurred_at="2026-01-01T00:00:00.000000Z", seq=seq)
    payload = build_payload(actor=None, data={"x": other}, **fields)
    assert payload.startswith(header_for(**fields).encode())
    if other != case_ref:
        changed = header_for(**{**fields, "case_ref": other})
        assert not payload.startswith(changed.encode())


actors = st.none() | st.fixed_dictionaries({"name": text, "role": text})


@settings(max_examples=EXAMPLES // 4, deadline=None)
@given(optional_ref, optional_ref, optional_ref, st.integers(1, 2**40), actors,
       st.dictionaries(text, json_values, max_size=4))
def test_the_joined_payload_is_the_whole_documents_jcs(actor_id, case_ref, decision_ref, seq,
                                                        actor, data):
    """record_event joins a header and a body made before the lock: together they must be
    exactly the JCS bytes of the whole document."""
    fields = dict(actor_id=actor_id, case_ref=case_ref, decision_ref=decision_ref,
                  event_type="record.viewed", occurred_at="2026-01-01T00:00:00.000000Z", seq=seq)
    document = {**fields, "v": 1, "with": {"actor": actor, "data": data}}
    assert build_payload(actor=actor, data=data, **fields) == rfc8785.dumps(document)


def test_a_lone_surrogate_in_a_reference_is_refused() -> None:
    with pytest.raises(CanonicalisationError):
        build_payload(seq=1, occurred_at="2026-01-01T00:00:00.000000Z", actor=None,
                      actor_id=None, event_type="record.viewed", case_ref="\ud800",
                      decision_ref=None, data={})
