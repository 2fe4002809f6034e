"""Every page (from the route map) and every form's error state, as practitioners:
zero axe violations."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.routes import RouteCase
from tests.browser.scan import RolePages, params, role_pages, scan_case  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("case", params(['practitioner']))
def test_page_and_error_states(case: RouteCase, role_pages: RolePages, screenshots: Path) -> None:  # noqa: F811
    scan_case(case, role_pages, screenshots)
