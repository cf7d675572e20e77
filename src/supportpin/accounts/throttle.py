"""Sign-in throttling for the web UI and the API, counted where every app process sees it.

Counted per client address and per login name, so neither one client trying many names nor many
clients trying one name get more than SUPPORTPIN_SIGN_IN_RATE failures (a wrong password and a
wrong TOTP code alike) within the window that their first failure opened. Successful sign-ins
are not counted. The counts live in the database, or in the cache named by
SUPPORTPIN_SIGN_IN_CACHE (Redis when REDIS_URL is set): both are shared by all app processes.

Requests for a password reset e-mail are counted the same way, each one, per client address and
per e-mail address, against SUPPORTPIN_PASSWORD_RESET_RATE: nobody fills a mailbox with them.
"""

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import caches
from django.db import IntegrityError, transaction
from django.db.models import F

from supportpin.accounts.models import SignInFailures
from supportpin.lib.client import client_address
from supportpin.lib.rates import parse_rate


@dataclass(frozen=True)
class Limit:
    """What is counted (the keys' prefix) and the setting that holds its rate."""

    name: str
    rate_setting: str

    def rate(self) -> tuple[int, timedelta]:
        """The allowed count and the window of the rate setting (checked at start-up)."""
        return parse_rate(getattr(settings, self.rate_setting))


SIGN_IN = Limit("sign-in", "SUPPORTPIN_SIGN_IN_RATE")
PASSWORD_RESET = Limit("password-reset", "SUPPORTPIN_PASSWORD_RESET_RATE")


def _client(request) -> str:
    address = client_address(request)
    # One IPv6 client usually holds a whole /64: count it as one.
    prefix = 64 if address.version == 6 else 32
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def _keys(limit: Limit, request, login: str) -> list[str]:
    return [
        f"{limit.name}-ip:{_client(request)}",
        f"{limit.name}-login:{login.strip().lower()[:254]}",
    ]


def sign_in_blocked(request, login: str, *, now: datetime) -> bool:
    """True when this client or this login has used up its failed sign-ins for now."""
    return used_up(SIGN_IN, request, login, now=now)


def count_failed_sign_in(request, login: str, *, now: datetime) -> None:
    """Count one failed sign-in against this client and this login."""
    count(SIGN_IN, request, login, now=now)


def used_up(limit: Limit, request, login: str, *, now: datetime) -> bool:
    """True when this client or this login has used up what `limit` allows for now."""
    allowed, _ = limit.rate()
    keys = _keys(limit, request, login)
    counts: Iterable[int]
    if settings.SUPPORTPIN_SIGN_IN_CACHE:
        counts = caches[settings.SUPPORTPIN_SIGN_IN_CACHE].get_many(keys).values()
    else:
        counts = SignInFailures.objects.filter(key__in=keys, window_ends_at__gt=now).values_list(
            "count", flat=True
        )
    return any(counted >= allowed for counted in counts)


def count(limit: Limit, request, login: str, *, now: datetime) -> None:
    """Count one attempt against this client and this login."""
    _, window = limit.rate()
    for key in _keys(limit, request, login):
        if settings.SUPPORTPIN_SIGN_IN_CACHE:
            cache = caches[settings.SUPPORTPIN_SIGN_IN_CACHE]
            # add() opens the window only for the first failure; incr() is atomic in Redis.
            seconds = int(window.total_seconds())
            cache.add(key, 0, timeout=seconds)
            try:
                cache.incr(key)
            except ValueError:  # the window closed between add() and incr()
                cache.add(key, 1, timeout=seconds)
        else:
            _count_in_database(key, now=now, window=window)


def _count_in_database(key: str, *, now: datetime, window: timedelta) -> None:
    with transaction.atomic():
        SignInFailures.objects.filter(window_ends_at__lte=now).delete()
        # Incremented in the UPDATE itself, so concurrent failures never overwrite each other.
        if SignInFailures.objects.filter(key=key).update(count=F("count") + 1):
            return
        try:
            with transaction.atomic():
                SignInFailures.objects.create(key=key, window_ends_at=now + window, count=1)
        except IntegrityError:
            # Another process opened the window between our UPDATE and INSERT: count in it.
            SignInFailures.objects.filter(key=key).update(count=F("count") + 1)
