"""Issue 6 part 3: a rendered page is legible A4 with nothing clipped (poppler-utils).

pdftoppm turns page 1 into a PNG at 72 dpi (one pixel per point, so A4 is 595 x 842), and
`pdftotext -bbox` gives every word's box: each must lie inside the page's printable area
(the A4 page less the 16 mm side margins), so no long URL or digest runs off the edge.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from decision_aid.models import User
from tests.helpers import login_as

pytestmark = pytest.mark.skipif(
    not (shutil.which("pdftoppm") and shutil.which("pdftotext")),
    reason="poppler-utils (pdftoppm, pdftotext) not installed: `make sysdeps` installs it",
)

A4 = (595.28, 841.89)
SIDE_MARGIN = 16 / 25.4 * 72  # print.scss: @page margin 20mm 16mm 22mm
WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">')


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


@pytest.fixture
def record_pdf(client: FlaskClient, make_decision: Any, author: User, tmp_path: Path) -> Path:
    decision = make_decision(author, recommendation="duty_to_share")
    login_as(client, author)
    response = client.get(f"/decisions/{decision.id}/record.pdf")
    assert response.status_code == 200
    path = tmp_path / "record.pdf"
    path.write_bytes(response.data)
    return path


def test_a4_pages_with_every_word_inside_the_printable_area(record_pdf: Path,
                                                           tmp_path: Path) -> None:
    """One render, two checks: page 1 as a 72 dpi PNG is A4; no word box leaves the page."""
    subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", "72", "-png", "-singlefile",
                    str(record_pdf), str(tmp_path / "page")], check=True, timeout=60)
    width, height = _png_size(tmp_path / "page.png")
    assert abs(width - 595) <= 1 and abs(height - 842) <= 1, (width, height)
    out = tmp_path / "words.html"
    subprocess.run(["pdftotext", "-bbox", str(record_pdf), str(out)], check=True, timeout=60)
    markup = out.read_text(encoding="utf-8")
    pages = markup.split("<page ")[1:]
    assert pages
    for number, page in enumerate(pages, start=1):
        size = re.match(r'width="([\d.]+)" height="([\d.]+)"', page)
        assert size and abs(float(size[1]) - A4[0]) < 1 and abs(float(size[2]) - A4[1]) < 1
        words = [tuple(map(float, match)) for match in WORD.findall(page)]
        assert len(words) > 20, f"page {number} has almost no text"
        for x_min, y_min, x_max, y_max in words:
            assert SIDE_MARGIN - 1 <= x_min and x_max <= A4[0] - SIDE_MARGIN + 1, \
                f"page {number}: word at x {x_min}-{x_max} runs into the side margin"
            assert 14 <= y_min and y_max <= A4[1] - 14, \
                f"page {number}: word at y {y_min}-{y_max} is off the printable area"
