"""What happened to a product's actions after a supporter asked for them."""

from dataclasses import dataclass
from datetime import datetime

from django.db import models

from supportpin.notify.models import Kind, OutboxMessage

RECENT_ACTIONS = 10


class Delivery(models.TextChoices):
    QUEUED = "queued"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True)
class ActionDelivery:
    action: str
    supporter: str
    requested_at: datetime
    state: Delivery
    attempts: int
    # Why the last attempt did not go through (a URL, HTTP status or setting): no personal data.
    last_error: str


def recent_actions(product_id: str) -> list[ActionDelivery]:
    """Return the newest actions on a product with the state of their webhook delivery."""
    # payload__product: the expression of the outbox's index on it (outbox_product_idx).
    messages = OutboxMessage.objects.filter(
        kind=Kind.WEBHOOK, payload__event="product_action", payload__product=product_id
    ).order_by("-created_at", "-id")[:RECENT_ACTIONS]
    return [
        ActionDelivery(
            action=message.payload["action"],
            supporter=message.payload["supporter"],
            requested_at=message.created_at,
            state=_state(message),
            attempts=message.attempts,
            last_error=message.last_error,
        )
        for message in messages
    ]


def on_the_way(deliveries: list[ActionDelivery]) -> bool:
    """Whether one of `deliveries` is neither delivered nor failed yet."""
    return any(d.state == Delivery.QUEUED for d in deliveries)


def _state(message: OutboxMessage) -> Delivery:
    if message.sent_at is not None:
        return Delivery.DELIVERED
    if message.failed_at is not None:
        return Delivery.FAILED
    return Delivery.QUEUED
