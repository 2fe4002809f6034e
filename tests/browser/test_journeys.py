"""End-to-end journeys in a real browser against the live server: decisions to share (proactive,
emergency and its later completion), a decision not to share, printing the record, a supervisor's
review and a DPO's export. Each user signs in with a password and a TOTP code from pyotp."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser import pages
from tests.browser.server import LiveServer
from tests.fixtures_decisions import BASE_FACTS, RECOMMENDATION_FACTS

pytestmark = pytest.mark.browser


def _submit(page: Any) -> None:
    with page.expect_navigation():
        page.click("#main-content form[method=post] [type=submit]")


def _to_decision_page(page: Any) -> None:
    assert "/check-your-answers" in page.url, page.url
    with page.expect_navigation():
        page.get_by_role("button", name="See the recommendation").click()
    assert "/recommendation" in page.url
    with page.expect_navigation():
        page.get_by_role("button", name="Record your decision").click()
    assert page.url.endswith("/decision")


def _reference(page: Any) -> str:
    match = re.search(r"DA-\d{4}-\d{6}", page.inner_text("main"))
    assert match, "no decision reference on the confirmation page"
    return match.group(0)


def test_practitioner_proactive_decision_then_prints_the_record(
        page: Any, live_server: LiveServer, screenshots: Any) -> None:
    pages.sign_in(page, live_server, "practitioner2")
    pages.start_decision(page, live_server, "CASE-41001")
    pages.answer_questions(page, {**BASE_FACTS, "immediate_risk": False})
    _to_decision_page(page)
    page.check("input[name=outcome][value=share_all]")
    page.locator("input[name=categories]").first.check()
    page.fill("textarea[name=description]", "Dates of two injuries")
    page.fill("input[name=recipient_org]", "Northshire Children's Social Care")
    page.fill("input[name=recipient_role]", "Duty social worker")
    page.locator("input[name=method]").first.check()
    page.check("input[name=person_told][value=yes]")
    _submit(page)
    assert "/confirmation" in page.url, page.url
    reference = _reference(page)
    pages.assert_no_violations(page, "confirmation after a proactive decision")
    with page.expect_navigation():
        page.get_by_role("link", name="View the record").click()
    assert reference in page.inner_text("main")
    record_url = page.url
    print_url = record_url.replace("/record", "/print-view")
    page.goto(print_url)
    page.emulate_media(media="print")
    assert reference in page.inner_text("body")
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    pages.screenshot(page, screenshots / "journeys", "print-view")
    page.emulate_media(media="screen")


def test_practitioner_emergency_decision_and_later_completion(page: Any, live_server: LiveServer) -> None:
    pages.sign_in(page, live_server, "practitioner2")
    pages.start_decision(page, live_server, "CASE-41002")
    assert "/questions/immediate_risk" in page.url
    page.check("input[name=immediate_risk][value=yes]")
    _submit(page)
    assert "/emergency/what-you-are-sharing" in page.url, page.url
    page.locator("input[name=categories]").first.check()
    page.fill("textarea[name=description]", "Where the child is now")
    _submit(page)
    assert "/emergency/who-and-how" in page.url, page.url
    page.fill("input[name=recipient_org]", "Northshire Police")
    page.fill("input[name=recipient_role]", "999 call handler")
    page.locator("input[name=method]").first.check()
    _submit(page)
    assert "/confirmation" in page.url, page.url
    reference = _reference(page)
    # Later: complete the full record from the list of decisions.
    page.goto(live_server("/decisions"))
    row = page.locator("tr", has_text=reference)
    with page.expect_navigation():
        row.get_by_role("button").first.click()
    pages.answer_questions(page, {**BASE_FACTS, "immediate_risk": False})
    _to_decision_page(page)
    page.check("input[name=outcome][value=share_all]")
    if page.locator("input[name=categories]:checked").count() == 0:
        page.locator("input[name=categories]").first.check()
    for name, value in (("recipient_org", "Northshire Police"), ("recipient_role", "999 call handler")):
        if not page.input_value(f"input[name={name}]"):
            page.fill(f"input[name={name}]", value)
    if page.locator("input[name=method]:checked").count() == 0:
        page.locator("input[name=method]").first.check()
    page.check("input[name=person_told][value=no]")
    page.fill("textarea[name=not_told_reason]", "Telling the family could increase the risk")
    _submit(page)
    assert "/confirmation" in page.url, page.url
    assert _reference(page) != reference


def test_practitioner_decides_not_to_share(page: Any, live_server: LiveServer) -> None:
    pages.sign_in(page, live_server, "practitioner2")
    pages.start_decision(page, live_server, "CASE-41003")
    pages.answer_questions(page, {**BASE_FACTS, **RECOMMENDATION_FACTS["do_not_share"],
                                  "immediate_risk": False})
    _to_decision_page(page)
    page.check("input[name=outcome][value=do_not_share]")
    page.check("input[name=person_told][value=yes]")
    page.fill("textarea[name=reasons]", "Sharing is not necessary: the concern is already known.")
    _submit(page)
    assert "/confirmation" in page.url, page.url


def test_supervisor_reviews_a_decision(page: Any, live_server: LiveServer) -> None:
    pages.sign_in(page, live_server, "supervisor")
    decision_id = live_server.world.named["advice"]
    page.goto(live_server(f"/review/decisions/{decision_id}"))
    page.locator("input[name=verdict]").first.check()
    page.fill("textarea[name=reasons]", "Reasonable in the circumstances; follow up next week.")
    _submit(page)
    assert page.url.endswith("/review"), page.url
    assert "Verdict recorded" in page.inner_text("main")


def test_dpo_exports_decisions(page: Any, live_server: LiveServer) -> None:
    pages.sign_in(page, live_server, "dpo")
    # Bulk exports need a recent step-up (password and code again).
    page.goto(live_server("/account/reauthenticate?next=/dpo/export"))
    pages.step_up(page, live_server, "dpo")
    assert page.url.endswith("/dpo/export"), page.url
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Decisions (CSV)").click()
    download = download_info.value
    path = download.path()
    assert path is not None
    body = open(path, encoding="utf-8").read()
    assert body.strip(), "the export is empty"
    assert str(live_server.world.named["proactive"]) in body or "DA-" in body
