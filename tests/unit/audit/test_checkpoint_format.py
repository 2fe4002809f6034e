"""C2SP signed-note checkpoints: exact layout, key id, and refusal of any altered byte."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from decision_aid.audit.checkpoint import Checkpoint, CheckpointError, parse, sign, verify_signature
from decision_aid.audit.keys import key_id, parse_private_key, private_key_pem, public_bytes

ORIGIN = "decision-aid.local/test/audit"


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def test_layout_is_origin_size_root_blank_line_signature(key) -> None:
    checkpoint = Checkpoint(ORIGIN, 42, "11" * 32)
    text = sign(checkpoint, key)
    lines = text.split("\n")
    assert lines[:4] == [ORIGIN, "42", base64.b64encode(b"\x11" * 32).decode(), ""]
    assert lines[4].startswith(f"\u2014 {ORIGIN} ") and lines[5] == ""
    blob = base64.b64decode(lines[4].rsplit(" ", 1)[1])
    assert len(blob) == 4 + 64
    name_hash = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + public_bytes(key.public_key()))
    assert blob[:4] == name_hash.digest()[:4] == key_id(ORIGIN, key.public_key())
    key.public_key().verify(blob[4:], "\n".join(lines[:3]).encode() + b"\n")
    assert verify_signature(text, key.public_key()) == checkpoint


def test_every_altered_body_byte_is_refused(key) -> None:
    text = sign(Checkpoint(ORIGIN, 7, "ab" * 32), key)
    body_length = text.index("\n\n")
    for i in range(body_length):
        altered = text[:i] + chr(ord(text[i]) ^ 1) + text[i + 1:]
        with pytest.raises(CheckpointError):
            verify_signature(altered, key.public_key())


def test_another_key_is_not_accepted(key) -> None:
    text = sign(Checkpoint(ORIGIN, 7, "ab" * 32), Ed25519PrivateKey.generate())
    with pytest.raises(CheckpointError, match="not signed by this log's key"):
        verify_signature(text, key.public_key())


@pytest.mark.parametrize("text", ["", "origin\n1\n", "o\nx\nAAAA\n\n\u2014 o AAAA\n",
                                  "o\n01\n" + "A" * 44 + "\n\n\u2014 o AAAA\n"])
def test_malformed_notes_are_refused(text) -> None:
    with pytest.raises(CheckpointError):
        parse(text)


def test_keys_load_from_pem_or_base64_seed(key) -> None:
    seed = key.private_bytes_raw()
    from_seed = parse_private_key(base64.b64encode(seed))
    from_pem = parse_private_key(private_key_pem(key))
    assert public_bytes(from_seed.public_key()) == public_bytes(from_pem.public_key())
