"""The DPO tests reuse the review area's cast and decision fixtures."""

from tests.integration.review.conftest import app_config, cast, corpus  # noqa: F401  (fixtures)
