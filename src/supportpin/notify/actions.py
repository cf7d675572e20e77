from contextlib import AbstractContextManager
from datetime import datetime

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

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
    # A header may not hold a line break (Django refuses the mail on every retry), and a
    # subject can carry a name someone typed: fold all whitespace to single spaces.
    payload = {"to": to, "subject": " ".join(subject.split()), "body": body}
    return _queue(Kind.EMAIL, payload, now, dedupe_key)


def queue_email_from_template(
    *,
    to: list[str],
    template: str,
    context: dict,
    language: str,
    now: datetime,
    dedupe_key: str | None = None,
) -> OutboxMessage | None:
    """Queue the e-mail `render_email` makes of `template`, in the caller's transaction."""
    subject, body = render_email(template, context, language=language)
    return queue_email(to=to, subject=subject, body=body, now=now, dedupe_key=dedupe_key)


def render_email(template: str, context: dict, *, language: str) -> tuple[str, str]:
    """Return the subject and the body `notify/<template>.txt` renders in `language`.

    The template's first line is the subject, the rest the body. Times show in TIME_ZONE, the
    zone of the web UI, so an e-mail and the page it points to say the same time.
    """
    with translation.override(language), timezone.override(settings.TIME_ZONE):
        text = render_to_string(f"notify/{template}.txt", context)
    subject, _, body = text.strip().partition("\n")
    return subject, body.strip() + "\n"


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
