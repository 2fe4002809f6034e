"""Issue 6 part 2: the one-page recipient notice, as HTML and PDF."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from decision_aid.models import User
from tests.helpers import login_as
from tests.integration.records.pdf_checks import html_text, missing, pdf_pages


def test_notice_html_and_one_page_pdf(client: FlaskClient, make_decision: Any,
                                      author: User) -> None:
    decision = make_decision(author, recommendation="lawful_to_share")
    basis = decision.result["lawful_bases"][0]
    step = next(s for s in decision.result["trace"] if s["rule"] == basis)
    expected = [
        "OFFICIAL-SENSITIVE", decision.reference, decision.case_ref,
        "Why we shared it", "To protect a child or an adult at risk from harm or neglect",
        "Lawful basis", step["title"], *step["urls"],
        "How to handle it", "Do not pass it on without contacting us first",
        "has NOT been told", "How long to keep it", "7 years",
        "Contact", "Test Practitioner", decision.sharing["recipient_org"],
    ]
    login_as(client, author)
    page = client.get(f"/decisions/{decision.id}/recipient-notice")
    assert page.status_code == 200
    assert missing(expected, html_text(page.get_data(as_text=True))) == []

    response = client.get(f"/decisions/{decision.id}/recipient-notice.pdf")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == \
        f'attachment; filename="{decision.reference}-recipient-notice.pdf"'
    pages = pdf_pages(response.data)
    assert len(pages) == 1, "the notice is a one-page cover note"
    assert missing([*expected, "Page 1 of 1", "Downloaded by Test Practitioner"], pages[0]) == []
