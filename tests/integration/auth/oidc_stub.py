"""A tiny OpenID Connect provider on 127.0.0.1 for tests: discovery, JWKS, authorize, token.

It signs RS256 ID tokens with a key generated for the test run. `claims` lets a test choose what
the provider says about the user (email, email_verified, amr).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from authlib.jose import JsonWebKey, jwt

CLIENT_ID = "decision-aid-test"
CLIENT_SECRET = "stub-client-secret"


class StubProvider:
    """Runs the provider in a daemon thread; `issuer` is its base URL."""

    def __init__(self) -> None:
        self.key = JsonWebKey.generate_key("RSA", 2048, is_private=True, options={"kid": "test-key"})
        self.claims: dict[str, Any] = {}
        self.codes: dict[str, dict[str, str]] = {}
        self.token_requests = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Shut the server down and free the port."""
        self.server.shutdown()
        self.server.server_close()

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        payload = {"iss": self.issuer, "aud": CLIENT_ID, "sub": "user-123", "iat": now, "exp": now + 300,
                   "nonce": nonce, **self.claims}
        return jwt.encode({"alg": "RS256", "kid": "test-key"}, payload, self.key).decode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                return

            def _json(self, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                if url.path == "/.well-known/openid-configuration":
                    return self._json(provider.discovery())
                if url.path == "/jwks":
                    return self._json({"keys": [provider.key.as_dict(is_private=False)]})
                if url.path == "/authorize":
                    query = dict(urllib.parse.parse_qsl(url.query))
                    code = secrets.token_urlsafe(16)
                    provider.codes[code] = {"nonce": query.get("nonce", ""), "client_id": query["client_id"]}
                    target = query["redirect_uri"] + "?" + urllib.parse.urlencode(
                        {"code": code, "state": query["state"]})
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.end_headers()
                    return None
                self.send_error(404)
                return None

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                grant = provider.codes.pop(form.get("code", ""), None)
                if self.path != "/token" or grant is None:
                    self.send_error(400)
                    return
                provider.token_requests += 1
                self._json({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                            "expires_in": 300, "id_token": provider.id_token(grant["nonce"])})

        return Handler
