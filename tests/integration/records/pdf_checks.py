"""Helpers to read rendered PDFs and HTML back as text, and what every record must say."""

from __future__ import annotations

import html
import io
import re
from typing import Any

from pypdf import PdfReader

WHITESPACE = re.compile(r"\s+")
TAGS = re.compile(r"<[^>]+>")


def squash(text: str) -> str:
    """Text without any whitespace: long URLs and digests wrap across lines in a PDF."""
    return WHITESPACE.sub("", text)


def pdf_pages(data: bytes) -> list[str]:
    """Extracted text of each page (pypdf)."""
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]


def html_text(markup: str) -> str:
    """Visible text of an HTML page, tags stripped and entities decoded."""
    body = re.sub(r"<(script|style)\b.*?</\1>", "", markup, flags=re.S)
    return html.unescape(TAGS.sub(" ", body))


def missing(expected: list[str], text: str) -> list[str]:
    """Expected strings not found in the text (compared without whitespace)."""
    haystack = squash(text)
    return [item for item in expected if squash(item) not in haystack]


def expected_fields(decision: Any, ruleset: Any, verification_code: str) -> list[str]:
    """Every field issue 6 requires on a record, computed from the stored decision."""
    result = decision.result
    steps = {step["rule"]: step for step in result["trace"]}
    sharing = decision.sharing
    fields = [
        "Test Safeguarding Partnership", decision.case_ref, decision.reference,
        "Test Practitioner", "Practitioner", "02 November 2026 at 09:30 UTC",
        "Emergency", "Recommendation of the decision aid", "Practitioner's decision",
        sharing["reasons"],
        "Was the person told", "Advice sought from",
        "Review status", "Not yet reviewed",
        decision.ruleset_version, decision.ruleset_digest, verification_code,
    ]
    for question in ruleset.questions:
        answered = [f for f in question.fields if f.fact in decision.answers]
        if answered:
            fields.append(question.title)
        for field in answered:
            value = decision.answers[field.fact]
            wanted = ("yes" if value else "no") if field.kind == "bool" else value
            fields.extend(o.label for o in field.options if o.value == wanted)
    for key in ("lawful_bases", "special_category_conditions", "criminal_offence_conditions",
                "part3_conditions", "duties"):
        for rule_id in result[key]:
            step = steps[rule_id]
            fields.append(step["title"])
            fields.extend(step["citations"])
            fields.extend(step["urls"])
    descriptions = {r["id"]: r["description"] for r in ruleset.conclusions["requirements"]}
    fields.extend(descriptions[item] for item in result["requirements"])
    if decision.shared:
        fields += [sharing["description"], sharing["recipient_org"], sharing["recipient_role"],
                   "Secure email", "When it was shared", "03 November 2026",
                   sharing["not_told_reason"]]
        fields.extend(category["label"] for category in sharing["categories"])
    else:
        fields.append("nothing was shared under this decision")
    fields.extend(f"{a['name']} ({a['role']})" for a in sharing["advice_from"])
    if decision.emergency:
        fields += ["Yes: shared first under the emergency route", "Not yet completed",
                   "Record to be completed by"]
    return fields
