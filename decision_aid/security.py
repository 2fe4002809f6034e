"""Security headers on every response, including errors and static files (quality-targets T4)."""

from __future__ import annotations

import secrets

from flask import Flask, Response, g, request

CSP_TEMPLATE = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; "
    "img-src 'self' data:; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def init_security(app: Flask) -> None:
    """A fresh nonce per request for the one inline script GOV.UK Frontend needs."""
    from decision_aid.logs import init_logging

    init_logging(app)
    app.before_request(_make_nonce)
    app.after_request(_set_headers)


def _make_nonce() -> None:
    g.csp_nonce = secrets.token_urlsafe(16)


def csp_nonce() -> str:
    """The nonce for this request (an error page raised before_request still gets one)."""
    if "csp_nonce" not in g:
        _make_nonce()
    return str(g.csp_nonce)


def _set_headers(response: Response) -> Response:
    from flask import current_app

    headers = response.headers
    headers["Content-Security-Policy"] = CSP_TEMPLATE.format(nonce=csp_nonce())
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "no-referrer"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
    if current_app.config["DEPLOYMENT"] == "production":
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if not request.path.startswith("/static/"):
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    return response
