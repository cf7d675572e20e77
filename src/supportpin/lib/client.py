"""The address of the client behind the reverse proxies the provider trusts."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def client_address(request: HttpRequest) -> Address:
    """Return the client's address: REMOTE_ADDR, or behind trusted proxies their forwarded one.

    Each trusted proxy appends the address it got the request from to X-Forwarded-For, so the
    rightmost entry that no trusted proxy sent is the client; anything left of it is what the
    client wrote itself and proves nothing.
    """
    address = ipaddress.ip_address(request.META["REMOTE_ADDR"])
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    while _trusted(address) and forwarded:
        try:
            address = ipaddress.ip_address(forwarded.pop().strip())
        except ValueError:
            break  # garbage from beyond the trusted proxies: the last proxy's peer it is
    return address


def _trusted(address: Address) -> bool:
    return any(address in network for network in settings.SUPPORTPIN_TRUSTED_PROXIES)
