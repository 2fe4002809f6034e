"""Issue 6: a record per decision, rendered as HTML, print view and PDF from the stored decision.

One decision per recommendation type; the print view and the PDF must both hold every field
the issue lists, the PDF must carry its metadata, the marking, the viewer footer and page
numbers on every page.
"""

from __future__ import annotations

import io
from typing import Any

import html5lib
import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select

from decision_aid.audit import events, verification_code
from decision_aid.extensions import db
from decision_aid.models import User
from decision_aid.models.audit import AuditEvent
from tests.fixtures_decisions import RECOMMENDATIONS
from tests.helpers import login_as
from tests.integration.records.pdf_checks import (
    expected_fields,
    html_text,
    missing,
    pdf_pages,
    squash,
)

SHARED_AT = "2026-11-03"
# seek_advice is recorded as a departure (the practitioner decided not to share) so the
# "reasons where they differ" path is covered too.
OVERRIDES: dict[str, dict[str, Any]] = {
    "share_urgently": {},
    "do_not_share": {},
    "seek_advice": {"outcome": "do_not_share",
                    "sharing": {"reasons": "Manager advised the concern is already known."}},
    "duty_to_share": {},
    "lawful_to_share": {},
}
FOOTER = "Downloaded by Test Practitioner (Practitioner) on 02 November 2026 at 09:30 UTC"


def _code(app: Flask, reference: str) -> str:
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.decision_ref == reference,
            AuditEvent.event_type.in_([events.DECISION_SUBMITTED, events.EMERGENCY_RECORDED]))
        ).one()
        return verification_code(event)


@pytest.mark.parametrize("recommendation", RECOMMENDATIONS)
def test_print_view_and_pdf_hold_every_field(app: Flask, client: FlaskClient, make_decision: Any,
                                             author: User, recommendation: str) -> None:
    overrides = OVERRIDES[recommendation]
    sharing = {"shared_at": SHARED_AT, **overrides.get("sharing", {})}
    decision = make_decision(author, recommendation=recommendation,
                             **{**overrides, "sharing": sharing})
    assert decision.recommendation == recommendation
    expected = expected_fields(decision, app.extensions["ruleset"], _code(app, decision.reference))
    if decision.departed_from_recommendation:
        expected.append("Reasons for departing from the recommendation")
    login_as(client, author)

    page = client.get(f"/decisions/{decision.id}/print-view")
    assert page.status_code == 200
    markup = page.get_data(as_text=True)
    html5lib.HTMLParser(strict=True).parse(markup)  # raises on any parse error
    assert missing([*expected, "OFFICIAL-SENSITIVE"], html_text(markup)) == []

    response = client.get(f"/decisions/{decision.id}/record.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == \
        f'attachment; filename="{decision.reference}.pdf"'
    assert "no-store" in response.headers["Cache-Control"]
    pages = pdf_pages(response.data)
    assert missing(expected, "\n".join(pages)) == []
    assert 2 <= len(pages) <= 5, f"{len(pages)} pages"
    for number, text in enumerate(pages, start=1):
        assert "OFFICIAL-SENSITIVE" in text, f"marking missing on page {number}"
        assert squash(FOOTER) in squash(text), f"viewer footer missing on page {number}"
        assert f"Page {number} of {len(pages)}" in text
    _check_metadata_fonts_and_tags(response.data, decision.reference)


def _check_metadata_fonts_and_tags(data: bytes, reference: str) -> None:
    """Title and language (T31), a structure tree (PDF/UA), embedded Liberation Sans subsets."""
    reader = PdfReader(io.BytesIO(data))
    assert reader.metadata is not None
    assert reader.metadata.title == f"Decision record {reference} (OFFICIAL-SENSITIVE)"
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en-GB"
    assert "/StructTreeRoot" in root, "PDF/UA: a structure tree (tagged PDF)"
    assert root["/MarkInfo"]["/Marked"]
    fonts = _fonts(reader)
    assert fonts, "no fonts found"
    for name, descriptor in fonts.items():
        assert "+" in name, f"{name} is not a subset"
        assert "LiberationSans" in name.replace("-", ""), name
        assert "/FontFile2" in descriptor, f"{name} is not embedded"


def _fonts(reader: PdfReader) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for page in reader.pages:
        for font in page["/Resources"].get("/Font", {}).values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", []):
                descendant = descendant.get_object()
                found[str(descendant["/BaseFont"])] = descendant["/FontDescriptor"].get_object()
    return found


def test_record_page_links_to_every_document(client: FlaskClient, make_decision: Any,
                                             author: User) -> None:
    decision = make_decision(author, recommendation="lawful_to_share")
    login_as(client, author)
    page = client.get(f"/decisions/{decision.id}/record")
    assert page.status_code == 200
    markup = page.get_data(as_text=True)
    for path in ("print-view", "record.pdf", "recipient-notice"):
        assert f"/decisions/{decision.id}/{path}" in markup
    assert "access-log" not in markup  # the author cannot see who has looked at it
    assert missing([decision.reference, decision.case_ref, "OFFICIAL-SENSITIVE",
                    "Viewed by Test Practitioner"], html_text(markup)) == []


def test_emergency_completion_is_shown(client: FlaskClient, make_decision: Any,
                                       author: User) -> None:
    emergency = make_decision(author, recommendation="share_urgently")
    completion = make_decision(author, recommendation="lawful_to_share", completes=emergency)
    login_as(client, author)
    text = html_text(client.get(f"/decisions/{emergency.id}/print-view").get_data(as_text=True))
    assert f"Completed by {completion.reference}" in text
    text = html_text(client.get(f"/decisions/{completion.id}/print-view").get_data(as_text=True))
    assert "Completes emergency decision" in text and emergency.reference in text


def test_record_is_rendered_from_the_stored_trace(app: Flask, client: FlaskClient,
                                                  make_decision: Any, author: User,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine is never re-run: a record still renders if evaluating would now fail."""
    import rules

    decision = make_decision(author, recommendation="lawful_to_share")

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the record re-ran the engine")

    monkeypatch.setattr(rules, "evaluate", refuse)
    monkeypatch.setattr(rules, "replay", refuse)
    login_as(client, author)
    assert client.get(f"/decisions/{decision.id}/print-view").status_code == 200
