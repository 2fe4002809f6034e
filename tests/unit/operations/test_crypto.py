"""AES-GCM sealing: round trip (versions 1 and 2), tamper detection, associated data binding, KEK parsing."""

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


# Version 2: compressed, then encrypted (target T23) ----------------------------------------------

def _version_1_blob(plaintext: bytes, *, key_id: uuid.UUID, key: bytes, aad: bytes) -> bytes:
    """A blob laid out exactly as every value written before version 2 (no crypto helpers)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    return b"\x01" + key_id.bytes + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _version_2_blob(body: bytes, *, key_id: uuid.UUID, key: bytes, aad: bytes) -> bytes:
    """A version 2 blob around an arbitrary (already compressed, or not) body."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    header = b"\x02" + key_id.bytes
    return header + nonce + AESGCM(key).encrypt(nonce, body, header + aad)


def _sealed_decision_bytes() -> bytes:
    import datetime as dt

    import rules

    output = rules.evaluate({"immediate_risk": False, "trigger": "proactive"}, dt.date(2026, 11, 30))
    return crypto._json_bytes({"answers": {"trigger": "proactive"}, "result": output,
                               "sharing": {"reasons": "Not necessary."}})


def test_new_blobs_are_version_2_and_compressed() -> None:
    key, key_id, aad = _key(), uuid.uuid4(), b"decision:content_ciphertext:1"
    plaintext = _sealed_decision_bytes()
    blob = crypto.encrypt_bytes(plaintext, key_id=key_id, key=key, aad=aad)
    assert crypto.VERSION == crypto.VERSION_DEFLATE == blob[:1] == b"\x02"
    assert crypto.blob_key_id(blob) == key_id
    assert len(blob) < len(plaintext) / 3  # a rule evaluation's JSON is very repetitive
    assert crypto.decrypt_bytes(blob, key=key, aad=aad) == plaintext


def test_version_1_blobs_written_before_still_decrypt() -> None:
    key, key_id, aad = _key(), uuid.uuid4(), b"decision:content_ciphertext:1"
    plaintext = _sealed_decision_bytes()
    old = _version_1_blob(plaintext, key_id=key_id, key=key, aad=aad)
    assert crypto.blob_key_id(old) == key_id
    assert crypto.decrypt_bytes(old, key=key, aad=aad) == plaintext
    assert crypto.encrypt_bytes(plaintext, key_id=key_id, key=key, aad=aad, compress=False)[:1] \
        == crypto.VERSION_PLAIN == b"\x01"


@pytest.mark.parametrize("compress", [True, False])
def test_every_flipped_byte_of_either_version_is_refused(compress: bool) -> None:
    """Version 2 authenticates its header as well: no byte at all can change unnoticed."""
    key, key_id, aad = _key(), uuid.uuid4(), b"t:c:1"
    blob = crypto.encrypt_bytes(b"sentinel " * 20, key_id=key_id, key=key, aad=aad,
                                compress=compress)
    start = 0 if compress else 17  # version 1 leaves its header to the key look-up
    for index in range(start, len(blob)):
        for bit in (0x01, 0x80):
            tampered = bytearray(blob)
            tampered[index] ^= bit
            with pytest.raises(crypto.DecryptionError):
                crypto.decrypt_bytes(bytes(tampered), key=key, aad=aad)


def test_a_blob_relabelled_as_the_other_version_is_refused() -> None:
    key, key_id, aad = _key(), uuid.uuid4(), b"t:c:1"
    for compress in (True, False):
        blob = bytearray(crypto.encrypt_bytes(b"{}" * 50, key_id=key_id, key=key, aad=aad,
                                              compress=compress))
        blob[0] = 0x01 if compress else 0x02
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt_bytes(bytes(blob), key=key, aad=aad)


def test_a_version_2_blob_moved_to_another_row_or_key_is_refused() -> None:
    key, key_id = _key(), uuid.uuid4()
    blob = crypto.encrypt_bytes(b"x" * 100, key_id=key_id, key=key,
                                aad=crypto.aad_for("decision", "c", 1))
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_bytes(blob, key=key, aad=crypto.aad_for("decision", "c", 2))
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_bytes(blob, key=_key(), aad=crypto.aad_for("decision", "c", 1))


@pytest.mark.parametrize("body", [b"not deflate at all \xff\xfe",
                                  crypto._deflate(b"cut short " * 100)[:-4],
                                  crypto._deflate(b"complete") + b"trailing"])
def test_authentic_but_malformed_compressed_content_is_an_error_not_garbage(body: bytes) -> None:
    key, key_id, aad = _key(), uuid.uuid4(), b"t:c:1"
    blob = _version_2_blob(body, key_id=key_id, key=key, aad=aad)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_bytes(blob, key=key, aad=aad)


def test_content_inflating_past_the_ceiling_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    key, key_id, aad = _key(), uuid.uuid4(), b"t:c:1"
    blob = crypto.encrypt_bytes(b"\x00" * 5000, key_id=key_id, key=key, aad=aad)
    monkeypatch.setattr(crypto, "MAX_PLAINTEXT_BYTES", 4096)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_bytes(blob, key=key, aad=aad)


def test_a_packed_plaintext_is_used_only_for_the_same_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    key, key_id, aad = _key(), uuid.uuid4(), b"t:c:1"
    packed = crypto.pack_json({"answers": {"a": 1}, "result": {"r": [1, 2]}})
    calls: list[bytes] = []
    real = crypto._deflate
    monkeypatch.setattr(crypto, "_deflate", lambda data: calls.append(data) or real(data))
    same = crypto._json_bytes({"result": {"r": [1, 2]}, "answers": {"a": 1}})
    blob = crypto.encrypt_bytes(same, key_id=key_id, key=key, aad=aad, packed=packed)
    assert calls == [] and crypto.decrypt_bytes(blob, key=key, aad=aad) == same
    other = crypto._json_bytes({"answers": {"a": 2}, "result": {"r": [1, 2]}})
    blob = crypto.encrypt_bytes(other, key_id=key_id, key=key, aad=aad, packed=packed)
    assert calls == [other] and crypto.decrypt_bytes(blob, key=key, aad=aad) == other


@given(st.binary(max_size=4096) | st.text(max_size=2048).map(str.encode), st.booleans())
def test_any_bytes_round_trip_in_either_version(plaintext: bytes, compress: bool) -> None:
    key, key_id, aad = b"k" * 32, uuid.UUID(int=7), b"t:c:1"
    blob = crypto.encrypt_bytes(plaintext, key_id=key_id, key=key, aad=aad, compress=compress)
    assert blob[:1] == (crypto.VERSION_DEFLATE if compress else crypto.VERSION_PLAIN)
    assert crypto.decrypt_bytes(blob, key=key, aad=aad) == plaintext


@given(JSON_VALUES)
def test_any_sealed_json_value_round_trips_through_version_2(value: object) -> None:
    key, key_id, aad = b"k" * 32, uuid.UUID(int=7), b"t:c:1"
    packed = crypto.pack_json(value)
    blob = crypto.encrypt_bytes(crypto._json_bytes(value), key_id=key_id, key=key, aad=aad,
                                packed=packed)
    assert crypto.decrypt_bytes(blob, key=key, aad=aad) == packed.plaintext
    assert json.loads(crypto.decrypt_bytes(blob, key=key, aad=aad)) == value
