from datetime import datetime

from django.conf import settings

from supportpin.notify.models import Kind, OutboxMessage


def queue_email(
    *, to: list[str], subject: str, body: str, now: datetime, dedupe_key: str | None = None
) -> OutboxMessage | None:
    """Queue an e-mail in the caller's transaction; None when `dedupe_key` was queued before."""
    if not to:
        return None
    # A header may not hold a line break (Django refuses the mail on every retry), and a
    # subject can carry a name someone typed: fold all whitespace to single spaces.
    payload = {"to": to, "subject": " ".join(subject.split()), "body": body}
    return _queue(Kind.EMAIL, payload, now, dedupe_key)


def queue_webhook(*, payload: dict, now: datetime) -> OutboxMessage:
    """Queue a signed webhook to the provider's backend in the caller's transaction."""
    return _queue(Kind.WEBHOOK, payload, now, None)


def queue_grant_event(*, payload: dict, now: datetime) -> OutboxMessage | None:
    """Queue a signed grant event in the caller's transaction; None when nobody listens."""
    if not settings.SUPPORTPIN_EVENTS_WEBHOOK_URL:
        return None
    return _queue(Kind.GRANT_EVENT, payload, now, None)


def _queue(kind: Kind, payload: dict, now: datetime, dedupe_key: str | None):
    if dedupe_key is not None:
        message, created = OutboxMessage.objects.get_or_create(
            dedupe_key=dedupe_key,
            defaults={"kind": kind, "payload": payload, "created_at": now, "due_at": now},
        )
        return message if created else None
    return OutboxMessage.objects.create(kind=kind, payload=payload, created_at=now, due_at=now)
