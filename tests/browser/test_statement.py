"""The accessibility statement is in the prescribed form (GDS sample statement headings) and
lists what is known not to meet the standard. No browser needed."""

from __future__ import annotations

import html as html_lib
import re

from flask.testing import FlaskClient

REQUIRED_HEADINGS = [
    "Accessibility statement for",
    "How accessible this tool is",
    "Feedback and contact information",
    "Reporting accessibility problems with this tool",
    "Enforcement procedure",
    "Technical information about this tool's accessibility",
    "Compliance status",
    "Non-accessible content",
    "Non-compliance with the accessibility regulations",
    "Disproportionate burden",
    "Content that's not within the scope of the accessibility regulations",
    "What we're doing to improve accessibility",
    "Preparation of this accessibility statement",
]


def test_statement_has_the_prescribed_sections_in_order(client: FlaskClient) -> None:
    html = client.get("/accessibility").get_data(as_text=True)
    headings = [html_lib.unescape(re.sub(r"\s+", " ", h)).strip()
                for h in re.findall(r"<h[1-3][^>]*>(.*?)</h[1-3]>", html, re.S)]
    positions = []
    for wanted in REQUIRED_HEADINGS:
        index = next((i for i, h in enumerate(headings) if h.startswith(wanted)), None)
        assert index is not None, f"missing heading: {wanted!r} (have {headings})"
        positions.append(index)
    assert positions == sorted(positions), "sections are not in the prescribed order"
    assert "partially compliant" in html or "fully compliant" in html
    assert "Equality Advisory and Support Service" in html
    assert re.search(r"prepared on \d{1,2} \w+ \d{4}", html)
