"""Fixtures for the sign-in tests: the MFA helpers are shared with other areas via tests.fixtures_mfa."""

from tests.fixtures_mfa import enrolled_user  # noqa: F401
