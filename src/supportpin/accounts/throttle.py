"""Sign-in throttling for the web UI and the API: failed attempts counted in the cache.

Counted per client address and per login name (django-ratelimit), so neither one client trying
many names nor many clients trying one name get more than SUPPORTPIN_SIGN_IN_RATE failures.
Successful sign-ins are not counted.
"""

from django.conf import settings
from django_ratelimit import ALL
from django_ratelimit.core import get_usage


def _login_key(login: str):
    return lambda group, request: login.strip().lower()[:254]


def _usages(request, login: str, *, increment: bool) -> list[dict]:
    rate = settings.SUPPORTPIN_SIGN_IN_RATE
    keys = {"sign-in-ip": "ip", "sign-in-login": _login_key(login)}
    return [
        get_usage(request, group=group, key=key, rate=rate, method=ALL, increment=increment)
        for group, key in keys.items()
    ]


def sign_in_blocked(request, login: str) -> bool:
    """True when this client or this login has used up its failed sign-ins for now."""
    return any(
        u is not None and u["count"] >= u["limit"] for u in _usages(request, login, increment=False)
    )


def count_failed_sign_in(request, login: str) -> None:
    """Count one failed sign-in against this client and this login."""
    _usages(request, login, increment=True)
