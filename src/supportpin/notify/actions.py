from contextlib import AbstractContextManager
from datetime import datetime

from django.conf import settings

from supportpin.lib.batches import InsertBatch
from supportpin.notify.models import Kind, OutboxMessage

# The messages of a batched_messages() block.
_BATCH = InsertBatch(OutboxMessage)


def queue_email(
    *, to: list[str], subject: str, body: str, now: datetime, dedupe_key: str | None = None
) -> OutboxMessage | None:
    """Queue an e-mail in the caller's transaction; None when `dedupe_key` was queued before."""
    if not to:
        return None
    return _queue(Kind.EMAIL, {"to": to, "subject": subject, "body": body}, now, dedupe_key)


def queue_email_from_template(
    *,
    to: list[str],
    template: str,
    context: dict,
    language: str,
    now: datetime,
    dedupe_key: str | None = None,
) -> OutboxMessage | None:
    """Queue the e-mail `notify/<template>.txt` in `language`, in the caller's transaction.

    It is rendered when it is sent (`notify.delivery.email_of`), not in the request that queues
    it, so `context` holds values JSON keeps: strings, numbers, dicts of them and datetimes.
    """
    if not to:
        return None
    payload = {
        "to": to,
        "template": template,
        "language": language,
        "context": {k: v.isoformat() if isinstance(v, datetime) else v for k, v in context.items()},
        # Which values to read back as datetimes (the templates format them).
        "times": sorted(k for k, v in context.items() if isinstance(v, datetime)),
    }
    return _queue(Kind.EMAIL, payload, now, dedupe_key)


def queue_webhook(*, payload: dict, now: datetime) -> OutboxMessage:
    """Queue a signed webhook to the provider's backend in the caller's transaction."""
    return _queue(Kind.WEBHOOK, payload, now, None)


def queue_grant_event(*, payload: dict, now: datetime) -> OutboxMessage | None:
    """Queue a signed grant event in the caller's transaction; None when nobody listens."""
    if not settings.SUPPORTPIN_EVENTS_WEBHOOK_URL:
        return None
    return _queue(Kind.GRANT_EVENT, payload, now, None)


def queue_for_witness(*, witness: str, now: datetime) -> OutboxMessage | None:
    """Queue the log's newest checkpoint for `witness` in the caller's transaction.

    None when a message for it already waits: it sends whatever checkpoint is newest when it
    goes out, so one waiting message covers every seal until then.
    """
    # The lock makes a worker leasing that message at this moment (it skips locked rows) wait
    # for this transaction's checkpoint; one already leased is not matched, so a new one is
    # queued behind it.
    waiting = OutboxMessage.objects.select_for_update().filter(
        kind=Kind.WITNESS,
        payload__witness=witness,
        sent_at__isnull=True,
        failed_at__isnull=True,
        leased_by__isnull=True,
    )
    if waiting.exists():
        return None
    return _queue(Kind.WITNESS, {"witness": witness}, now, None)


def batched_messages() -> AbstractContextManager[None]:
    """Within one transaction, collect the messages queued and insert them together at the end.

    For actions that queue several messages: one INSERT (one round trip) for all of them. A
    message with a dedupe key is still inserted at once, as only its INSERT can tell whether
    it was queued before. Nothing is queued if the block raises.
    """
    return _BATCH.collecting()


def _queue(kind: Kind, payload: dict, now: datetime, dedupe_key: str | None):
    if dedupe_key is not None:
        message, created = OutboxMessage.objects.get_or_create(
            dedupe_key=dedupe_key,
            defaults={"kind": kind, "payload": payload, "created_at": now, "due_at": now},
        )
        return message if created else None
    message = OutboxMessage(kind=kind, payload=payload, created_at=now, due_at=now)
    if not _BATCH.add(message):
        message.save()
    return message
