"""Password hashing (Argon2id) and strength checks (zxcvbn ships the common-password lists)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

# argon2-cffi's RFC 9106 "low memory" profile: Argon2id, t=3, m=64 MiB, p=4.
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not-a-real-password-used-for-equal-timing")

MIN_LENGTH = 12
MAX_LENGTH = 128
MIN_SCORE = 3
ZXCVBN_LIMIT = 72  # zxcvbn refuses longer input; the first 72 characters decide the score
CONTEXT_WORDS = ("safeguarding", "decision", "aid", "password", "sharing", "children")


def hash_password(password: str) -> str:
    """An Argon2id hash with a random salt."""
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Check a password; with no account, check a dummy so timing does not reveal existence."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(stored_hash)


def password_problem(password: str, user_inputs: list[str] | tuple[str, ...] = ()) -> str | None:
    """A GOV.UK-style message when a password is too weak, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"Password must be {MIN_LENGTH} characters or more"
    if len(password) > MAX_LENGTH:
        return f"Password must be {MAX_LENGTH} characters or fewer"
    result = zxcvbn(password[:ZXCVBN_LIMIT], user_inputs=[*CONTEXT_WORDS, *user_inputs])
    if result["score"] < MIN_SCORE:
        return "Password is too easy to guess: use three or more random words"
    return None
