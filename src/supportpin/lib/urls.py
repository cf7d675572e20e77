"""Addresses of this app as the people it mails and redirects reach it."""

from django.conf import settings
from django.http import HttpRequest


def public_url(request: HttpRequest, path: str) -> str:
    """Return `path` at SUPPORTPIN_PUBLIC_URL, or at this request's host when that is unset.

    A panel may call through an internal address, and a reset e-mail must not point at whatever
    host a request named: the public address comes first.
    """
    public = settings.SUPPORTPIN_PUBLIC_URL
    return public.rstrip("/") + path if public else request.build_absolute_uri(path)
