"""Optional single sign-on with OpenID Connect (Microsoft Entra ID or any conforming provider).

Configured by environment variables (read through app.config, prefix DECISION_AID_):
OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, and OIDC_TRUST_IDP_MFA (default false).
When any of the first three is missing the SSO routes answer 404.

Rules (docs/security/sso.md):
* Users are matched by a *verified* e-mail address (`email_verified` true) to an existing, active
  account. No account is ever created from a provider's claims.
* The provider's sign-in replaces the password only. The second factor is still asked here unless
  OIDC_TRUST_IDP_MFA is true *and* the ID token's `amr` claim says the provider did MFA.
* Authlib checks the state (CSRF), the nonce (replay), and the ID token's signature (provider's
  JWKS), issuer, audience and expiry.
"""

from __future__ import annotations

from typing import Any

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app

DEFAULTS: dict[str, Any] = {
    "OIDC_ISSUER": None,
    "OIDC_CLIENT_ID": None,
    "OIDC_CLIENT_SECRET": None,
    "OIDC_TRUST_IDP_MFA": False,
    "OIDC_SCOPES": "openid email profile",
}
MFA_AMR_VALUES = frozenset({"mfa", "otp", "hwk", "swk", "fido", "sc"})
_EXTENSION = "decision_aid_oidc"


def setting(name: str) -> Any:
    """A setting from the app config, falling back to this module's default."""
    return current_app.config.get(name, DEFAULTS[name])


def configured() -> bool:
    """True when issuer, client id and client secret are all set."""
    return all(setting(name) for name in ("OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET"))


def client() -> Any:
    """The provider's Authlib client, registered on first use (discovery is fetched lazily)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if _EXTENSION not in app.extensions:
        oauth = OAuth(app)
        issuer = str(setting("OIDC_ISSUER")).rstrip("/")
        oauth.register(
            "idp",
            client_id=setting("OIDC_CLIENT_ID"),
            client_secret=setting("OIDC_CLIENT_SECRET"),
            server_metadata_url=f"{issuer}/.well-known/openid-configuration",
            client_kwargs={"scope": setting("OIDC_SCOPES"), "timeout": 5},
        )
        app.extensions[_EXTENSION] = oauth
    return app.extensions[_EXTENSION].idp


def claims_options() -> dict[str, Any]:
    """The ID token must come from the configured issuer and name us as its audience."""
    return {
        "iss": {"essential": True, "value": str(setting("OIDC_ISSUER")).rstrip("/")},
        "aud": {"essential": True, "value": setting("OIDC_CLIENT_ID")},
    }


def verified_email(claims: dict[str, Any]) -> str | None:
    """The e-mail address, only when the provider says it has verified it."""
    email = claims.get("email")
    if isinstance(email, str) and claims.get("email_verified") is True and "@" in email:
        return email
    return None


def provider_did_mfa(claims: dict[str, Any]) -> bool:
    """True only when trusting the provider's MFA is switched on and `amr` shows it happened."""
    if not bool(setting("OIDC_TRUST_IDP_MFA")):
        return False
    amr = claims.get("amr") or []
    return isinstance(amr, list) and bool(MFA_AMR_VALUES & {str(value) for value in amr})
