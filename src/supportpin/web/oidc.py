"""Staff sign-in through the provider's OpenID Connect identity provider, with Authlib's client.

Authlib does the protocol: discovery from the issuer, the authorization code flow with PKCE,
`state` and `nonce` kept in the session, and the ID token's signature checked against the
issuer's JWKS, its issuer, audience, expiry and nonce.
"""

import functools
import logging
from dataclasses import dataclass

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.django_client import OAuth
from django.conf import settings
from django.urls import reverse
from joserfc.errors import JoseError

log = logging.getLogger(__name__)

# Seconds a call to the identity provider may take before the sign-in fails.
TIMEOUT = 10


class SignInFailed(Exception):
    """The identity provider's answer does not prove who signs in."""


@dataclass(frozen=True)
class Identity:
    username: str
    # The identity provider asserted a second factor (SUPPORTPIN_OIDC_MFA).
    mfa: bool


def enabled() -> bool:
    return bool(settings.SUPPORTPIN_OIDC_ISSUER)


@functools.cache
def _client(issuer: str, client_id: str, client_secret: str):
    # One client per configuration: it keeps the discovery document and the JWKS it fetched.
    return OAuth().register(
        "idp",
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_id=client_id,
        client_secret=client_secret,
        client_kwargs={
            "scope": "openid profile email",
            "code_challenge_method": "S256",
            "default_timeout": TIMEOUT,
        },
    )


def client():
    return _client(
        settings.SUPPORTPIN_OIDC_ISSUER,
        settings.SUPPORTPIN_OIDC_CLIENT_ID,
        settings.SUPPORTPIN_OIDC_CLIENT_SECRET,
    )


def redirect_to_provider(request):
    """Send the browser to the identity provider, remembering state, nonce and PKCE verifier."""
    callback = request.build_absolute_uri(reverse("web:staff-oidc-callback"))
    try:
        return client().authorize_redirect(request, callback)
    except (AuthlibBaseError, requests.RequestException, KeyError, ValueError) as error:
        log.warning("OpenID Connect discovery failed: %r", error)
        raise SignInFailed from error


def identity_from_callback(request) -> Identity:
    """Redeem the code the identity provider sent back and return who it vouches for."""
    issuer = settings.SUPPORTPIN_OIDC_ISSUER
    options = {
        "iss": {"essential": True, "value": issuer},
        "aud": {"essential": True, "value": settings.SUPPORTPIN_OIDC_CLIENT_ID},
    }
    try:
        token = client().authorize_access_token(request, claims_options=options)
    except (AuthlibBaseError, JoseError, requests.RequestException, ValueError) as error:
        log.warning("OpenID Connect sign-in refused: %r", error)
        raise SignInFailed from error
    claims = token.get("userinfo")
    username = claims.get(settings.SUPPORTPIN_OIDC_USERNAME_CLAIM) if claims else None
    if not isinstance(username, str) or not username:
        log.warning("OpenID Connect sign-in refused: no ID token or no username claim")
        raise SignInFailed
    mfa_values = {value for value in settings.SUPPORTPIN_OIDC_MFA if value}
    amr = claims.get("amr")
    asserted = set(amr) if isinstance(amr, list) else set()
    asserted.add(str(claims.get("acr", "")))
    return Identity(username=username, mfa=bool(mfa_values & asserted))
