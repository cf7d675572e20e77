"""Keyed hashes and random tokens shared by PINs, tokens, API keys and the audit chain."""

import hashlib
import hmac
import secrets

from django.conf import settings


def derived_key(purpose: str) -> bytes:
    """Return a key for `purpose` derived from SECRET_KEY, so one secret protects all of them."""
    return hmac.new(settings.SECRET_KEY.encode(), purpose.encode(), hashlib.sha256).digest()


def keyed_digest(purpose: str, message: bytes) -> str:
    """Return the hex HMAC-SHA256 of `message` under the key for `purpose`."""
    return hmac.new(derived_key(purpose), message, hashlib.sha256).hexdigest()


def token_digest(token: str) -> str:
    """Return what the database stores for a bearer token (it never stores the token)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(prefix: str) -> str:
    """Return a fresh bearer token: the prefix and 256 random bits."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def same(a: str, b: str) -> bool:
    """Compare two secrets in constant time."""
    return hmac.compare_digest(a.encode(), b.encode())
