"""The checkpoint signing key: Ed25519, kept outside the database and never stored in it.

Sources, in order: DECISION_AID_AUDIT_SIGNING_KEY (PEM or base64 of the 32-byte seed; Flask also
copies it into config as AUDIT_SIGNING_KEY), the file named by AUDIT_SIGNING_KEY_FILE, and, only in
development and test, instance/keys/audit-signing.key (generated with a warning when missing).
Production refuses to start a checkpoint without a configured key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import re
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app

log = logging.getLogger(__name__)

ENV_VAR = "DECISION_AID_AUDIT_SIGNING_KEY"
DEV_KEY_PATH = Path("keys") / "audit-signing.key"
ED25519_ALG = b"\x01"  # C2SP signed-note signature type for Ed25519


class SigningKeyError(RuntimeError):
    """No usable signing key (missing in production, unreadable or malformed)."""


def parse_private_key(material: bytes) -> Ed25519PrivateKey:
    """A PEM (PKCS#8) Ed25519 key, or base64 of the raw 32-byte seed."""
    material = material.strip()
    if material.startswith(b"-----BEGIN"):
        key = serialization.load_pem_private_key(material, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyError("the audit signing key must be an Ed25519 key")
        return key
    try:
        seed = base64.b64decode(material, validate=True)
    except binascii.Error as exc:
        raise SigningKeyError("audit signing key is neither PEM nor base64") from exc
    if len(seed) != 32:
        raise SigningKeyError("a base64 audit signing key must hold exactly 32 bytes")
    return Ed25519PrivateKey.from_private_bytes(seed)


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    """PKCS#8 PEM, unencrypted: protect the file with permissions 0600 and a secret store."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def write_new_key(path: Path) -> Ed25519PrivateKey:
    """Create a key file with mode 0600, refusing to overwrite (atomic: link fails if present)."""
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, private_key_pem(key))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)
    finally:
        tmp.unlink()
    return key


def _dev_key() -> Ed25519PrivateKey:
    path = Path(current_app.instance_path) / DEV_KEY_PATH
    if path.exists():
        return parse_private_key(path.read_bytes())
    log.warning("no audit signing key configured; generated %s (development/test only)", path)
    try:
        return write_new_key(path)
    except FileExistsError:  # another process made it first
        return parse_private_key(path.read_bytes())


def load_signing_key() -> Ed25519PrivateKey:
    """The configured key (see module docstring); raises SigningKeyError when there is none."""
    material = current_app.config.get("AUDIT_SIGNING_KEY") or os.environ.get(ENV_VAR)
    if material:
        return parse_private_key(str(material).encode())
    key_file = current_app.config.get("AUDIT_SIGNING_KEY_FILE")
    if key_file:
        try:
            return parse_private_key(Path(key_file).read_bytes())
        except OSError as exc:
            raise SigningKeyError(f"cannot read AUDIT_SIGNING_KEY_FILE: {exc.strerror}") from exc
    if current_app.config.get("DEPLOYMENT") == "production":
        raise SigningKeyError(
            "no audit signing key: set DECISION_AID_AUDIT_SIGNING_KEY_FILE "
            "(create one with `flask audit keygen --out FILE`)"
        )
    return _dev_key()


def public_bytes(key: Ed25519PublicKey) -> bytes:
    """The raw 32-byte public key."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_name() -> str:
    """The signer's name in checkpoints: the log's origin (no spaces or '+', per C2SP)."""
    from decision_aid.audit.checkpoint import origin

    return origin()


def key_id(name: str, public: Ed25519PublicKey) -> bytes:
    """C2SP signed-note key hash: first 4 bytes of SHA-256(name || '\\n' || 0x01 || key)."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519_ALG + public_bytes(public)).digest()[:4]


def verifier_key(name: str, public: Ed25519PublicKey) -> str:
    """The C2SP note verifier key string: <name>+<hex key hash>+<base64(0x01 || key)>."""
    encoded = base64.b64encode(ED25519_ALG + public_bytes(public)).decode()
    return f"{name}+{key_id(name, public).hex()}+{encoded}"


def check_key_name(name: str) -> str:
    """Key names may not contain whitespace or '+' (C2SP signed-note)."""
    if not name or re.search(r"[\s+]", name):
        raise SigningKeyError(f"unusable checkpoint key name {name!r}")
    return name
