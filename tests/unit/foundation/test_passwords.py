"""Password hashing and strength rules."""

from __future__ import annotations

from decision_aid.auth.passwords import hash_password, password_problem, verify_password


def test_hash_is_argon2id_and_verifies() -> None:
    stored = hash_password("lantern-orchard-falcon-pebble")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "lantern-orchard-falcon-pebble")
    assert not verify_password(stored, "lantern-orchard-falcon-pebbles")


def test_missing_account_never_verifies() -> None:
    assert not verify_password(None, "not-a-real-password-used-for-equal-timing")


def test_common_and_short_passwords_are_refused() -> None:
    assert password_problem("password1234") is not None
    assert password_problem("short") == "Password must be 12 characters or more"
    assert password_problem("x" * 129) == "Password must be 128 characters or fewer"


def test_context_words_count_against_a_password() -> None:
    assert password_problem("safeguarding2026", ["someone@example.org"]) is not None


def test_random_words_are_accepted_without_composition_rules() -> None:
    assert password_problem("harbour violet compass thistle") is None


def test_long_passwords_up_to_the_limit_are_checked_without_error() -> None:
    assert password_problem("harbour violet compass thistle " * 4) is None  # 124 characters
    assert password_problem("a" * 128) is not None
