"""Sign-in throttling for the web UI and the API (django-ratelimit, counted in the cache)."""

from django.conf import settings
from django_ratelimit.core import is_ratelimited


def sign_in_throttled(request, login: str) -> bool:
    """Count a sign-in attempt; True when this client or this login tried too often."""
    rate = settings.SUPPORTPIN_SIGN_IN_RATE
    by_ip = is_ratelimited(request, group="sign-in-ip", key="ip", rate=rate, increment=True)
    by_login = is_ratelimited(
        request,
        group="sign-in-login",
        key=lambda group, request: login.strip().lower()[:254],
        rate=rate,
        increment=True,
    )
    return by_ip or by_login
