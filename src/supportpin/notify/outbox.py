"""Drain the outbox: each message is leased by one worker, sent, and marked sent."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from supportpin.notify.delivery import deliver
from supportpin.notify.models import OutboxMessage

log = logging.getLogger(__name__)

# A leased message is invisible to other workers this long; a worker that dies mid-send
# leaves it to be retried after the lease.
LEASE = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=1)


def lease_due(*, now: datetime, limit: int) -> list[OutboxMessage]:
    """Take up to `limit` due messages for this worker alone."""
    with transaction.atomic():
        # skip_locked: parallel workers take disjoint batches instead of waiting on each other;
        # moving due_at past the lease in the same transaction hides them after the commit.
        due = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(sent_at__isnull=True, failed_at__isnull=True, due_at__lte=now)
            .order_by("due_at", "pk")[:limit]
        )
        OutboxMessage.objects.filter(pk__in=[m.pk for m in due]).update(due_at=now + LEASE)
    return due


def send_due(*, now: datetime, limit: int = 100) -> tuple[int, int]:
    """Send what is due; return how many messages were sent and how many failed this pass."""
    sent = failed = 0
    for message in lease_due(now=now, limit=limit):
        attempts = message.attempts + 1
        try:
            deliver(message)
        except Exception as exc:
            failed += 1
            log.warning("outbox message %s failed (attempt %s): %s", message.pk, attempts, exc)
            gave_up = attempts >= settings.SUPPORTPIN_OUTBOX_MAX_ATTEMPTS
            OutboxMessage.objects.filter(pk=message.pk).update(
                attempts=attempts,
                last_error=str(exc)[:2000],
                due_at=now + min(timedelta(seconds=30 * 2 ** (attempts - 1)), MAX_BACKOFF),
                failed_at=now if gave_up else None,
            )
        else:
            sent += 1
            OutboxMessage.objects.filter(pk=message.pk).update(
                attempts=attempts, sent_at=now, last_error=""
            )
    return sent, failed
