"""Grant events: what the provider's backend hears when a grant starts or ends."""

import uuid
from datetime import datetime

from supportpin.access.models import EndReason, Grant
from supportpin.notify.actions import queue_grant_event

# The `reason` of a grant.ended event for each way a grant ends (the contract's words).
END_REASONS = {
    EndReason.EXPIRED: "expired",
    EndReason.ROTATED: "rotated",
    EndReason.REVOKED: "customer",
    EndReason.DEACTIVATED: "supporter",
    EndReason.TOO_MANY_FAILURES: "wrong_attempts",
    EndReason.SUPPORTER_DISABLED: "supporter_disabled",
    EndReason.RELEASED: "ticket_released",
    EndReason.TICKET_CLOSED: "ticket_closed",
    EndReason.TICKET_AUTOCLOSED: "ticket_autoclosed",
    EndReason.TICKET_LOCKED: "ticket_locked",
}


def grant_started(grant: Grant, *, now: datetime) -> None:
    """Queue `grant.started` for a grant opened in the caller's transaction."""
    _queue("grant.started", grant, occurred_at=grant.started_at, now=now)


def grant_ended(grant: Grant, reason: EndReason, *, at: datetime, now: datetime) -> None:
    """Queue `grant.ended` for a grant ended (at `at`) in the caller's transaction."""
    _queue("grant.ended", grant, occurred_at=at, now=now, reason=END_REASONS[reason])


def _queue(kind: str, grant: Grant, *, occurred_at: datetime, now: datetime, **extra) -> None:
    payload = {
        # The event's own id: a receiver that stores it ignores a delivery it has seen.
        "id": str(uuid.uuid4()),
        "type": kind,
        "occurred_at": occurred_at.isoformat(),
        "grant": _grant(grant),
        **extra,
    }
    queue_grant_event(payload=payload, now=now)


def _grant(grant: Grant) -> dict:
    ticket = grant.ticket
    # null: every product of the customer; a ticket that names products reaches only those.
    products = None
    if ticket is not None and ticket.scoped:
        products = sorted(ticket.products.values_list("id", flat=True))
    return {
        "id": grant.pk,
        "basis": grant.basis,
        "customer": grant.customer_id,
        "supporter": grant.supporter.display_name,
        # The backend's key for the supporter's account in its own tools.
        "supporter_username": grant.supporter.username,
        "ticket": grant.ticket_id,
        "started_at": grant.started_at.isoformat(),
        "until": grant.ends_at.isoformat() if grant.ends_at else None,
        "products": products,
    }
