"""Delete the rows that have done their job, so tables a busy provider fills every second stay
small. Each pass deletes a bounded batch per kind, oldest first; what is kept and for how long
is listed here, in one place."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import models

from supportpin.accounts.models import SignInFailures, SignInLink, Token
from supportpin.notify.models import OutboxMessage
from supportpin.products.models import RepeatedCheck

BATCH = 1000
# The coalescing windows of repeated checks are 5 minutes; one older than that decides nothing.
REPEATED_CHECKS_KEPT = timedelta(minutes=10)


def prune_done_rows(*, now: datetime) -> int:
    """Delete one batch of each kind of row whose time is over; return how many went."""
    sent_kept = timedelta(days=settings.SUPPORTPIN_OUTBOX_KEEP_DAYS)
    done = [
        # Sent messages: the product page shows recent deliveries, an admin reads the rest.
        OutboxMessage.objects.filter(sent_at__lt=now - sent_kept),
        # An expired link or token is refused whether its row is there or not.
        SignInLink.objects.filter(expires_at__lt=now),
        Token.objects.filter(expires_at__lt=now),
        SignInFailures.objects.filter(window_ends_at__lt=now),
        RepeatedCheck.objects.filter(bucket__lt=now - REPEATED_CHECKS_KEPT),
        Session.objects.filter(expire_date__lt=now),
    ]
    return sum(_delete_batch(rows) for rows in done)


def _delete_batch(rows: models.QuerySet) -> int:
    # By primary key and in batches: a short statement per pass, never a table-long lock.
    batch = list(rows.values_list("pk", flat=True)[:BATCH])
    if not batch:
        return 0
    deleted, _ = rows.model.objects.filter(pk__in=batch).delete()
    return deleted
