"""No residue on a shared workstation after signing out (quality target T37)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import pages
from tests.browser.server import LiveServer

pytestmark = pytest.mark.browser


def test_sign_out_leaves_nothing_behind(page: Any, context: Any, live_server: LiveServer) -> None:
    pages.sign_in(page, live_server, "practitioner")
    decision_id = live_server.world.named["proactive"]
    record = page.goto(live_server(f"/decisions/{decision_id}/record"))
    assert record is not None and record.status == 200
    assert "no-store" in (record.headers.get("cache-control") or "")
    case_text = page.inner_text("main")
    assert "CASE-" in case_text
    with page.expect_response(lambda r: r.url.endswith("/sign-out")) as info:
        page.get_by_role("button", name="Sign out").click()
    sign_out = info.value
    clear = sign_out.all_headers().get("clear-site-data", "")
    for part in ('"cache"', '"cookies"', '"storage"'):
        assert part in clear, f"sign-out response lacks Clear-Site-Data {part}: {clear!r}"
    page.wait_for_url("**/signed-out")
    storage = page.evaluate("""async () => ({
        local: localStorage.length, session: sessionStorage.length,
        idb: indexedDB.databases ? (await indexedDB.databases()).length : 0})""")
    assert storage == {"local": 0, "session": 0, "idb": 0}, storage
    assert not [c for c in context.cookies() if c["name"] == live_server.app.config["SESSION_COOKIE_NAME"]]
    page.go_back()
    page.wait_for_load_state("load")
    assert "CASE-" not in page.inner_text("body"), "the back button showed case content after sign-out"
