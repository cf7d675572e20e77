"""Send outbox messages: e-mail through Django's backend, webhooks signed with HMAC-SHA256."""

import hashlib
import hmac
import json
import urllib.request
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone, translation

from supportpin.notify.models import Kind, OutboxMessage

WEBHOOK_TIMEOUT_SECONDS = 10


class DeliveryError(Exception):
    pass


Sender = Callable[[OutboxMessage, datetime], None]
# Senders of kinds whose content another app owns (a witness submission needs the log's
# proofs): that app registers its sender when it loads, so notify imports nothing of it.
_SENDERS: dict[Kind, Sender] = {}


def register_sender(kind: Kind, sender: Sender) -> None:
    """Have `sender(message, now)` send every message of `kind`."""
    _SENDERS[kind] = sender


def deliver(message: OutboxMessage, *, now: datetime) -> None:
    """Send `message` once at `now`; raise DeliveryError (or the transport's error) on failure."""
    sender = _SENDERS.get(Kind(message.kind))
    if sender is not None:
        sender(message, now)
    elif message.kind == Kind.EMAIL:
        email_of(message.payload).send()
    else:
        _post_webhook(message, now)


def email_of(payload: dict) -> EmailMessage:
    """Return the e-mail a queued message's payload makes: its template rendered, or as queued."""
    if "template" in payload:
        context = {
            key: datetime.fromisoformat(value) if key in payload["times"] else value
            for key, value in payload["context"].items()
        }
        subject, body = _render(payload["template"], context, language=payload["language"])
    else:
        subject, body = payload["subject"], payload["body"]
    return EmailMessage(
        # A header may not hold a line break (Django refuses the mail on every retry), and a
        # subject can carry a name someone typed: fold all whitespace to single spaces.
        subject=" ".join(subject.split()),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=payload["to"],
    )


def _render(template: str, context: dict, *, language: str) -> tuple[str, str]:
    """Return the subject and the body `notify/<template>.txt` renders in `language`.

    The template's first line is the subject, the rest the body. Times show in TIME_ZONE, the
    zone of the web UI, so an e-mail and the page it points to say the same time.
    """
    with translation.override(language), timezone.override(settings.TIME_ZONE):
        text = render_to_string(f"notify/{template}.txt", context)
    subject, _, body = text.strip().partition("\n")
    return subject, body.strip() + "\n"


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """Return the value of the X-SupportPIN-Signature header for a webhook body."""
    signed = timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


# The settings (URL, secret) of the endpoint each kind of webhook goes to.
ENDPOINTS = {
    Kind.WEBHOOK: ("SUPPORTPIN_ACTION_WEBHOOK_URL", "SUPPORTPIN_ACTION_WEBHOOK_SECRET"),
    Kind.GRANT_EVENT: ("SUPPORTPIN_EVENTS_WEBHOOK_URL", "SUPPORTPIN_EVENTS_WEBHOOK_SECRET"),
}


def _post_webhook(message: OutboxMessage, now: datetime) -> None:
    url_setting, secret_setting = ENDPOINTS[Kind(message.kind)]
    url = getattr(settings, url_setting)
    secret = getattr(settings, secret_setting)
    if not url:
        raise DeliveryError(f"{url_setting} is not set")
    if not url.startswith(("http://", "https://")):
        raise DeliveryError(f"{url_setting} must be an http(s) URL")
    if not secret:
        # A signature under an empty key proves nothing; the receiver could not trust it.
        raise DeliveryError(f"{secret_setting} is not set: nothing is sent unsigned")
    body = json.dumps(message.payload, sort_keys=True).encode()
    # The time of this attempt, not of the action: receivers reject old timestamps, and a
    # retry hours later must still pass.
    timestamp = now.isoformat()
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-SupportPIN-Delivery": str(message.pk),
            "X-SupportPIN-Timestamp": timestamp,
            "X-SupportPIN-Signature": webhook_signature(secret, timestamp, body),
        },
    )
    with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
        if not 200 <= response.status < 300:
            raise DeliveryError(f"webhook answered {response.status}")
