"""Drain the outbox: a worker leases one message at a time, sends it, and marks the outcome
only while it still holds that lease."""

import time
import uuid
from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction

from supportpin.lib import clock
from supportpin.notify.delivery import deliver
from supportpin.notify.metrics import DELIVERIES
from supportpin.notify.models import OutboxMessage

log = structlog.get_logger(__name__)

MAX_BACKOFF = timedelta(hours=1)


def lease_next(*, now: datetime) -> tuple[OutboxMessage, str] | None:
    """Lease the oldest message due at `now` to the caller alone; return it and the lease token."""
    token = uuid.uuid4().hex
    with transaction.atomic():
        # skip_locked: parallel workers take different messages instead of waiting on each
        # other; moving due_at to the end of the lease hides the message once this commits.
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(sent_at__isnull=True, failed_at__isnull=True, due_at__lte=now)
            .order_by("due_at", "pk")
            .first()
        )
        if message is None:
            return None
        lease = timedelta(seconds=settings.SUPPORTPIN_OUTBOX_LEASE_SECONDS)
        OutboxMessage.objects.filter(pk=message.pk).update(due_at=now + lease, leased_by=token)
    return message, token


def send_due(*, now: datetime, limit: int = 100) -> tuple[int, int]:
    """Send up to `limit` due messages; return how many were sent and how many failed."""
    sent = failed = 0
    attempt_at = now
    for _ in range(limit):
        leased = lease_next(now=attempt_at)
        if leased is None:
            break
        if attempt(*leased, now=attempt_at):
            sent += 1
        else:
            failed += 1
        # Each message is leased when its turn comes, so a long batch cannot outlast the
        # lease of a message it has not sent yet (100 sends x 10 s would outlast 5 min).
        attempt_at = clock.now()
    return sent, failed


def attempt(message: OutboxMessage, token: str, *, now: datetime) -> bool:
    """Send a leased `message` once and record the outcome under lease `token`; True if sent."""
    attempts = message.attempts + 1
    # A worker whose lease ran out (another worker may have taken the message over) leaves
    # the record to the lease holder: this filter then matches nothing.
    mine = OutboxMessage.objects.filter(pk=message.pk, leased_by=token)
    try:
        deliver(message, now=now)
    except Exception as exc:
        gave_up = attempts >= settings.SUPPORTPIN_OUTBOX_MAX_ATTEMPTS
        outcome = "gave_up" if gave_up else "failed"
        DELIVERIES.labels(kind=message.kind, outcome=outcome).inc()
        # The error's type only: its text may name a recipient's address or a webhook URL's
        # secret path. The full text is kept in the message's last_error.
        log.warning(
            "delivery",
            message=message.pk,
            kind=message.kind,
            outcome=outcome,
            attempt=attempts,
            error=type(exc).__name__,
        )
        mine.update(
            attempts=attempts,
            last_error=str(exc)[:2000],
            due_at=now + min(timedelta(seconds=30 * 2 ** (attempts - 1)), MAX_BACKOFF),
            failed_at=now if gave_up else None,
            leased_by=None,
        )
        return False
    DELIVERIES.labels(kind=message.kind, outcome="sent").inc()
    if not record_sent(mine, attempts=attempts, now=now):
        log.warning(
            "delivery", message=message.pk, kind=message.kind, outcome="sent_after_lease_ran_out"
        )
        return True
    log.info("delivery", message=message.pk, kind=message.kind, outcome="sent", attempt=attempts)
    return True


def record_sent(mine, *, attempts: int, now: datetime) -> int:
    """Write down a send that already happened; return how many rows said it was ours.

    The message is out: losing this write (a database restart or failover in between) would
    send it a second time once the lease runs out. So keep trying, while the lease lasts."""
    deadline = time.monotonic() + settings.SUPPORTPIN_OUTBOX_LEASE_SECONDS
    pause = 0.25
    while True:
        try:
            return mine.update(attempts=attempts, sent_at=now, last_error="", leased_by=None)
        except (OperationalError, InterfaceError):
            if time.monotonic() + pause > deadline:
                raise
            # The session died with the server: drop it, so the next try reconnects.
            connection.close()
            time.sleep(pause)
            pause = min(pause * 2, 4)
