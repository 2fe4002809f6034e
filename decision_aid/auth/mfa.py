"""TOTP multi-factor authentication: enrolment, single-use codes, recovery codes and admin reset.

Key choices (see docs/security/mfa.md):

* Secrets at rest are encrypted with AES-256-GCM. The key is `MFA_ENCRYPTION_KEY` (64 hex
  characters) when set, otherwise it is derived from `SECRET_KEY` with HKDF-SHA256 under a
  purpose label, so one leaked database row does not let anyone generate codes. The user id is
  the AEAD's associated data, so a ciphertext moved to another user's row does not decrypt.
* A code is accepted for the current 30-second step or one step either side (clock drift), and
  only when its step is later than the last accepted one: every code is single-use.
* Recovery codes carry 120 random bits each (24 symbols from a 32-symbol alphabet), so a fast
  salted SHA-256 is enough: a slow password hash defends low-entropy secrets against guessing,
  and ASVS 6.5.2 allows a standard hash from 112 bits up; 2^120 guesses are out of reach.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import re
import secrets
import uuid

import pyotp
import qrcode
import qrcode.image.svg
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import select

from decision_aid import audit, clock
from decision_aid.audit import events
from decision_aid.auth import throttle
from decision_aid.auth.sessions import end_user_sessions
from decision_aid.database import write_transaction
from decision_aid.extensions import db
from decision_aid.logs import security_event
from decision_aid.models import MfaCredential, Organisation, RecoveryCode, Role, User

STEP_SECONDS = 30
VALID_WINDOW = 1
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_SYMBOLS = 24  # x 5 bits = 120 bits of entropy
ALWAYS_REQUIRED = (Role.SUPERVISOR, Role.DPO, Role.ADMIN)
CODE_RE = re.compile(r"^[0-9]{6}$")
RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # 32 symbols: 5 bits each, no 0/O or 1/I

MFA_ENROLLED = events.MFA_ENROLLED
MFA_SUCCEEDED = events.MFA_SUCCEEDED
MFA_FAILED = events.MFA_FAILED
MFA_RECOVERY_CODE_USED = "mfa.recovery_code_used"  # not (yet) in decision_aid.audit.events
MFA_RESET = events.MFA_RESET


# --- policy --------------------------------------------------------------------------------------

def enforced() -> bool:
    """MFA_ENFORCED=False switches MFA off outside production only (never in production)."""
    if current_app.config["DEPLOYMENT"] == "production":
        return True
    return bool(current_app.config.get("MFA_ENFORCED", True))


def is_required(user: User) -> bool:
    """Supervisors, DPOs and admins always; practitioners when the organisation says so."""
    if not enforced():
        return False
    if user.has_role(*ALWAYS_REQUIRED):
        return True
    org = db.session.scalars(select(Organisation).limit(1)).first()
    return org is None or bool(org.mfa_required_for_practitioners)


def credential(user: User) -> MfaCredential | None:
    """The user's confirmed credential, or None when not enrolled."""
    cred = db.session.get(MfaCredential, user.id)
    return cred if cred is not None and cred.enrolled_at is not None else None


def is_enrolled(user: User) -> bool:
    """True once the user has confirmed an authenticator app."""
    return credential(user) is not None


# --- secrets at rest -----------------------------------------------------------------------------

def _key(purpose: bytes) -> bytes:
    configured = current_app.config.get("MFA_ENCRYPTION_KEY")
    material = bytes.fromhex(configured) if configured else str(current_app.config["SECRET_KEY"]).encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"decision-aid " + purpose).derive(material)


def encrypt_secret(user_id: uuid.UUID, secret: str) -> bytes:
    """AES-GCM with a random 96-bit nonce (stored in front) and the user id as associated data."""
    nonce = secrets.token_bytes(12)
    return nonce + AESGCM(_key(b"totp-secret v1")).encrypt(nonce, secret.encode(), user_id.bytes)


def decrypt_secret(user_id: uuid.UUID, blob: bytes) -> str:
    """The base32 secret; raises cryptography's InvalidTag if the row was tampered with."""
    return AESGCM(_key(b"totp-secret v1")).decrypt(blob[:12], blob[12:], user_id.bytes).decode()


def pending_secret(user_id: uuid.UUID, nonce: str) -> str:
    """A candidate secret derived from a per-enrolment nonce kept in the server-side session.

    Deriving it (rather than storing it) lets the enrolment page be shown by a plain GET without
    writing anything, and keeps the unconfirmed secret out of the session table.
    """
    digest = hmac.new(_key(b"totp-enrolment v1"), user_id.bytes + nonce.encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:20]).decode()


def new_enrolment_nonce() -> str:
    """A fresh random nonce: each enrolment attempt gets a different secret."""
    return secrets.token_urlsafe(16)


# --- enrolment -----------------------------------------------------------------------------------

def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    issuer = str(current_app.config.get("ORG_NAME") or "Decision aid")[:60]
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def qr_data_uri(uri: str) -> str:
    """The QR code as an SVG data: URI, made on the server (no third-party requests; CSP-safe)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def grouped_key(secret: str) -> str:
    """The key in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def confirm_enrolment(user: User, secret: str, code: str) -> list[str] | None:
    """Store the secret once a code from it is right; returns fresh recovery codes (shown once)."""
    if locked(user):
        _failure(user, "throttled")
        return None
    step = matching_step(secret, code)
    if step is None:
        _failure(user, "bad_code")
        return None
    with write_transaction():
        codes = _replace_credential(user, secret, step)
        throttle.clear_failures(_throttle_key(user))
        audit.record_event(MFA_ENROLLED, actor=user)
    security_event("mfa_enrolled", outcome="success", actor=str(user.id))
    return codes


def provision(user: User, secret: str) -> list[str]:
    """Enrol a user with a known secret without a code (seed-demo and test fixtures only)."""
    with write_transaction():
        codes = _replace_credential(user, secret, None)
        audit.record_event(MFA_ENROLLED, actor=None, data={"user_id": str(user.id), "method": "provisioned"})
    return codes


def _replace_credential(user: User, secret: str, step: int | None) -> list[str]:
    now = clock.now()
    cred = db.session.get(MfaCredential, user.id)
    if cred is None:
        cred = MfaCredential(user_id=user.id, created_at=now)
        db.session.add(cred)
    cred.secret_ciphertext = encrypt_secret(user.id, secret)
    cred.last_used_step = step
    cred.enrolled_at = now
    cred.recovery_salt = secrets.token_hex(16)
    return _new_recovery_codes(user, cred.recovery_salt)


# --- verification --------------------------------------------------------------------------------

def matching_step(secret: str, code: str) -> int | None:
    """The time-step a code belongs to (now, or one step either side), else None."""
    code = code.replace(" ", "").strip()
    if not CODE_RE.match(code):
        return None
    totp = pyotp.TOTP(secret)
    current = int(clock.now().timestamp()) // STEP_SECONDS
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def verify_code(user: User, code: str) -> bool:
    """Check a TOTP code: right, not throttled, and for a later step than the last one used."""
    cred = credential(user)
    if cred is None or locked(user):
        _failure(user, "throttled" if cred else "not_enrolled")
        return False
    step = matching_step(decrypt_secret(user.id, cred.secret_ciphertext), code)
    if step is None or (cred.last_used_step is not None and step <= cred.last_used_step):
        _failure(user, "replayed_code" if step is not None else "bad_code")
        return False
    with write_transaction():
        cred.last_used_step = step
        throttle.clear_failures(_throttle_key(user))
        audit.record_event(MFA_SUCCEEDED, actor=user, data={"method": "totp"})
    security_event("mfa", outcome="success", actor=str(user.id), method="totp")
    return True


def locked(user: User) -> bool:
    """Too many wrong codes recently (shares the sign-in throttle's limits)."""
    return throttle.is_locked(_throttle_key(user))


def _throttle_key(user: User) -> str:
    return f"mfa:{user.id}"


def _failure(user: User, reason: str) -> None:
    with write_transaction():
        throttle.record_failure(_throttle_key(user))
        audit.record_event(MFA_FAILED, actor=user, data={"reason": reason})
    security_event("mfa", outcome="failure", actor=str(user.id), reason=reason)


# --- recovery codes ------------------------------------------------------------------------------

def _hash_recovery(salt: str, code: str) -> str:
    normalised = code.replace("-", "").replace(" ", "").strip().upper()
    return hashlib.sha256(f"{salt}|{normalised}".encode()).hexdigest()


def _new_recovery_codes(user: User, salt: str) -> list[str]:
    """Replace all recovery codes with 10 new ones (120 random bits each); the caller commits."""
    db.session.execute(db.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_SYMBOLS))
        codes.append("-".join(raw[i:i + 4] for i in range(0, RECOVERY_CODE_SYMBOLS, 4)))
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash_recovery(salt, raw), created_at=clock.now()))
    return codes


def use_recovery_code(user: User, code: str) -> bool:
    """Accept an unused recovery code once; it can never be used again."""
    cred = credential(user)
    if cred is None or locked(user) or len(code) > 60:
        _failure(user, "throttled" if cred else "not_enrolled")
        return False
    wanted = _hash_recovery(cred.recovery_salt, code)
    row = db.session.scalars(select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == wanted, RecoveryCode.used_at.is_(None))).first()
    if row is None:
        _failure(user, "bad_recovery_code")
        return False
    with write_transaction():
        row.used_at = clock.now()
        throttle.clear_failures(_throttle_key(user))
        audit.record_event(MFA_RECOVERY_CODE_USED, actor=user, data={"remaining": remaining_recovery_codes(user)})
    security_event("mfa", outcome="success", actor=str(user.id), method="recovery_code")
    return True


def remaining_recovery_codes(user: User) -> int:
    """How many unused recovery codes the user has left."""
    rows = db.session.scalars(select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).all()
    return len(rows)


# --- admin reset ---------------------------------------------------------------------------------

def reset(actor: User, user: User) -> int:
    """Remove the user's authenticator and recovery codes and end their sessions.

    Their next sign-in goes through enrolment again. Returns the number of sessions ended.
    """
    with write_transaction():
        db.session.execute(db.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        db.session.execute(db.delete(MfaCredential).where(MfaCredential.user_id == user.id))
        ended = end_user_sessions(user.id)
        audit.record_event(MFA_RESET, actor=actor, data={"user_id": str(user.id), "sessions_ended": ended})
    security_event("mfa_reset", outcome="success", actor=str(actor.id), target=str(user.id))
    return ended
