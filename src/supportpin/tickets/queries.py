"""Ticket listings: effective status in SQL (time-exact), newest activity first, keyset pages."""

import base64
from datetime import datetime

from django.db.models import Q, QuerySet

from supportpin.accounts.models import Staff
from supportpin.lib.problems import Invalid
from supportpin.tickets.models import Status, Ticket, overdue_q


def with_status(tickets: QuerySet[Ticket], status: Status, now: datetime) -> QuerySet[Ticket]:
    """Filter by the status tickets have at `now`, whether or not the worker wrote it down."""
    overdue = overdue_q(now)
    if status == Status.CLOSED:
        return tickets.filter(Q(status=Status.CLOSED) | overdue)
    return tickets.filter(status=status).exclude(overdue)


def encode_cursor(ticket: Ticket) -> str:
    raw = f"{ticket.updated_at.isoformat()}|{ticket.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, pk = base64.urlsafe_b64decode(padded.encode()).decode().split("|")
        return datetime.fromisoformat(at), int(pk)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid(
            "Unknown cursor.", errors=[{"field": "cursor", "message": "invalid"}]
        ) from exc


def ticket_page(
    tickets: QuerySet[Ticket], *, cursor: str | None, size: int
) -> tuple[list[Ticket], str | None]:
    """Return one page, newest activity first, and the cursor of the next page (or None)."""
    tickets = tickets.order_by("-updated_at", "-id")
    if cursor:
        at, pk = decode_cursor(cursor)
        tickets = tickets.filter(Q(updated_at__lt=at) | Q(updated_at=at, id__lt=pk))
    page = list(tickets.select_related("assignee").prefetch_related("products")[: size + 1])
    more = len(page) > size
    page = page[:size]
    return page, (encode_cursor(page[-1]) if more else None)


def queue(
    *, now: datetime, status: Status | None, assignee: Staff | None, unassigned: bool
) -> QuerySet[Ticket]:
    """The supporters' queue, filtered by status and holder."""
    tickets = Ticket.objects.all()
    if status is not None:
        tickets = with_status(tickets, status, now)
    if unassigned:
        tickets = tickets.filter(assignee__isnull=True)
    elif assignee is not None:
        tickets = tickets.filter(assignee=assignee)
    return tickets
