"""The one application clock. Actions read it once and pass the value down."""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    """Return the current time (UTC, aware); tests move it with time-machine."""
    return timezone.now()
