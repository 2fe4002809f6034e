"""PDF rendering with WeasyPrint: the same HTML as the print view, so the two never disagree.

- One render at a time per worker (a module-level semaphore): a render takes about a second of
  CPU and a lot of memory, and letting a burst of downloads run side by side would starve the
  wizard pages served by the same worker (T25).
- Tagged PDF (PDF/UA-1) with a language and a title, so screen-reader users get a structured
  document (T31); if this WeasyPrint cannot make that variant we fall back to an untagged PDF
  and say so in the log rather than failing the download.
- Fonts: Liberation Sans (fonts-liberation2), embedded as subsets. WeasyPrint subsets with
  HarfBuzz when libharfbuzz-subset is present; without it it falls back to fontTools, which is
  about twice as slow, hence the loud start-up warning in `check_harfbuzz_subsetting`.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask.sansio.app import App

log = logging.getLogger(__name__)

PDF_VARIANT = "pdf/ua-1"
_RENDER_SLOT = threading.Semaphore(1)
_SCSS_COMMENT = re.compile(r"^\s*//.*$", re.MULTILINE)


@dataclass(frozen=True)
class PdfMetadata:
    """What the PDF says about itself: title and language are required for PDF/UA."""

    title: str
    lang: str = "en-GB"
    author: str = ""
    subject: str = ""


def harfbuzz_subsetting_available() -> bool:
    """WeasyPrint's own test: libharfbuzz-subset loaded and HarfBuzz >= 4.1 (see pdf/fonts.py)."""
    try:
        from weasyprint.text import ffi
    except (ImportError, OSError):  # pragma: no cover - WeasyPrint itself missing
        return False
    if getattr(ffi, "harfbuzz_subset", None) is None:
        return False
    try:
        return bool(ffi.harfbuzz.hb_version_atleast(4, 1, 0))
    except AttributeError:  # pragma: no cover - very old HarfBuzz bindings
        return False


def check_harfbuzz_subsetting() -> bool:
    """Start-up self-check: warn loudly when PDFs will render about twice as slowly (T25)."""
    available = harfbuzz_subsetting_available()
    if not available:
        log.warning(
            "!!! WeasyPrint cannot use HarfBuzz subsetting (libharfbuzz-subset0 missing or "
            "HarfBuzz < 4.1): PDF records will render about twice as slowly. "
            "Install the Debian package libharfbuzz-subset0 (make sysdeps). !!!"
        )
    return available


def init_records(app: App) -> None:
    """Blueprint start-up hook: run the self-check once per app and remember the answer."""
    app.extensions["records.harfbuzz_subsetting"] = check_harfbuzz_subsetting()


def stylesheet_text() -> str:
    """The A4 print stylesheet: the compiled static file, else the SCSS source read as CSS.

    print.scss is written in plain CSS syntax (only `//` comments are Sass), so the source is
    a faithful fallback when `make static` has not been run (fresh test checkouts) or the
    compiled file is older than the source.
    """
    static = Path(current_app.static_folder or "") / "css" / "print.css"
    return _read_stylesheet(str(static), str(_scss_source()))


def _scss_source() -> Path:
    from decision_aid import ROOT

    return ROOT / "assets" / "scss" / "print.scss"


def _read_stylesheet(static_path: str, scss_path: str) -> str:
    """The compiled file unless it is missing or older than its source (a stale build)."""
    static, source = Path(static_path), Path(scss_path)
    if static.is_file() and (not source.is_file()
                             or static.stat().st_mtime >= source.stat().st_mtime):
        return _read_cached(str(static), static.stat().st_mtime, scss=False)
    return _read_cached(str(source), source.stat().st_mtime, scss=True)


@functools.lru_cache(maxsize=8)
def _read_cached(path: str, mtime: float, *, scss: bool) -> str:
    text = Path(path).read_text(encoding="utf-8")
    return _SCSS_COMMENT.sub("", text) if scss else text


@functools.lru_cache(maxsize=4)
def _compiled_stylesheet(css: str) -> object:
    """Parsing the stylesheet once per worker saves a little on every warm render."""
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    fonts = _font_configuration()
    assert isinstance(fonts, FontConfiguration)
    return CSS(string=css, font_config=fonts)


@functools.lru_cache(maxsize=1)
def _font_configuration() -> object:
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def render_pdf(html: str, meta: PdfMetadata, *, base_url: str | None = None,
               css: str | None = None) -> bytes:
    """Render HTML to PDF bytes, one render at a time in this worker."""
    stylesheet = _compiled_stylesheet(css if css is not None else stylesheet_text())
    with _RENDER_SLOT:
        return _render(html, meta, base_url, stylesheet)


def _render(html: str, meta: PdfMetadata, base_url: str | None, stylesheet: object) -> bytes:
    from weasyprint import HTML

    document = HTML(string=html, base_url=base_url).render(
        stylesheets=[stylesheet], font_config=_font_configuration())
    document.metadata.title = meta.title
    document.metadata.lang = meta.lang
    if meta.author:
        document.metadata.authors = [meta.author]
    if meta.subject:
        document.metadata.description = meta.subject
    options = {"uncompressed_pdf": False, "pdf_variant": PDF_VARIANT}
    try:
        pdf = document.write_pdf(**options)
    except (KeyError, ValueError, TypeError) as error:
        log.warning("PDF variant %s not available (%s): writing an untagged PDF", PDF_VARIANT,
                    error)
        pdf = document.write_pdf(uncompressed_pdf=False, pdf_tags=True)
    assert isinstance(pdf, bytes)
    return pdf
