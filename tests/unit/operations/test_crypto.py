"""AES-GCM sealing: round trip, tamper detection, associated data binding, KEK parsing."""

from __future__ import annotations

import base64
import json
import os
import uuid
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from decision_aid import crypto


def _key() -> bytes:
    return os.urandom(32)


def test_round_trip_and_layout() -> None:
    key, key_id = _key(), uuid.uuid4()
    aad = crypto.aad_for("decision", "content_ciphertext", "row-1")
    blob = crypto.encrypt_bytes(b"secret words", key_id=key_id, key=key, aad=aad)
    assert blob[:1] == crypto.VERSION
    assert crypto.blob_key_id(blob) == key_id
    assert b"secret words" not in blob
    assert crypto.decrypt_bytes(blob, key=key, aad=aad) == b"secret words"


def test_nonces_are_fresh() -> None:
    key, key_id, aad = _key(), uuid.uuid4(), b"t:c:1"
    first = crypto.encrypt_bytes(b"same", key_id=key_id, key=key, aad=aad)
    second = crypto.encrypt_bytes(b"same", key_id=key_id, key=key, aad=aad)
    assert first != second


def test_every_flipped_byte_fails_authentication() -> None:
    key, key_id, aad = _key(), uuid.uuid4(), b"t:c:1"
    blob = crypto.encrypt_bytes(b"sentinel", key_id=key_id, key=key, aad=aad)
    for index in range(17, len(blob)):  # nonce, ciphertext and tag (the header names the key)
        tampered = bytearray(blob)
        tampered[index] ^= 0x01
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt_bytes(bytes(tampered), key=key, aad=aad)


def test_ciphertext_moved_to_another_row_or_column_fails() -> None:
    key, key_id = _key(), uuid.uuid4()
    blob = crypto.encrypt_bytes(b"x", key_id=key_id, key=key, aad=crypto.aad_for("decision", "c", 1))
    for aad in (crypto.aad_for("decision", "c", 2), crypto.aad_for("draft", "c", 1),
                crypto.aad_for("decision", "d", 1)):
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt_bytes(blob, key=key, aad=aad)


def test_wrapping_is_bound_to_the_kek_and_the_key_row() -> None:
    kek, other = crypto.Kek(_key()), crypto.Kek(_key())
    key_id, data_key = uuid.uuid4(), _key()
    wrapped = crypto.wrap_key(kek, key_id, data_key)
    assert crypto.unwrap_key(kek, key_id, wrapped) == data_key
    with pytest.raises(crypto.DecryptionError):
        crypto.unwrap_key(other, key_id, wrapped)
    with pytest.raises(crypto.DecryptionError):
        crypto.unwrap_key(kek, uuid.uuid4(), wrapped)
    assert kek.kek_id != other.kek_id and len(kek.kek_id) == 16
    assert kek.key.hex() not in repr(kek)


@pytest.mark.parametrize("material", ["not base64!", base64.b64encode(b"short").decode()])
def test_bad_kek_material_names_the_setting(material: str) -> None:
    with pytest.raises(crypto.KekConfigError, match="DECISION_AID_KEK"):
        crypto.parse_kek(material, "DECISION_AID_KEK")


def test_kek_file_is_private_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "kek.key"
    kek = crypto.write_kek_file(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert crypto.read_kek_file(path, "x").kek_id == kek.kek_id
    with pytest.raises(FileExistsError):
        crypto.write_kek_file(path)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


@given(JSON_VALUES)
def test_sealed_json_bytes_are_the_standard_encoders_bytes(value: object) -> None:
    """orjson writes the sealed content; the bytes must be what json.dumps wrote before, so
    every existing ciphertext and every reader agrees (sorted keys, compact, UTF-8)."""
    standard = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert crypto._json_bytes(value) == standard.encode()


def test_a_real_evaluation_seals_to_the_same_bytes() -> None:
    """The largest thing sealed: a whole rule evaluation with its trace and what would change."""
    import datetime as dt

    import rules

    output = rules.evaluate({"immediate_risk": False, "trigger": "proactive"}, dt.date(2026, 11, 30))
    standard = json.dumps(output, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert crypto._json_bytes(output) == standard.encode()
