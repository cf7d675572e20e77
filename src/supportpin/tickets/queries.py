"""Ticket listings: effective status in SQL (time-exact), newest activity first, keyset pages."""

import base64
from datetime import UTC, datetime

from django.db.models import F, Q, QuerySet, TextChoices
from django.db.models.fields.tuple_lookups import Tuple, TupleLessThan

from supportpin.accounts.models import Staff
from supportpin.lib.problems import Invalid
from supportpin.tickets.models import Status, Ticket, overdue_q
from supportpin.tickets.search import Search, matching


def with_status(tickets: QuerySet[Ticket], status: Status, now: datetime) -> QuerySet[Ticket]:
    """Filter by the status tickets have at `now`, whether or not the worker wrote it down."""
    overdue = overdue_q(now)
    if status == Status.CLOSED:
        return tickets.filter(Q(status=Status.CLOSED) | overdue)
    return tickets.filter(status=status).exclude(overdue)


# Ticket ids are bigints; a forged cursor must not carry an id the database cannot compare.
LARGEST_ID = 2**63 - 1


def encode_cursor(ticket: Ticket) -> str:
    raw = f"{ticket.updated_at.isoformat()}|{ticket.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """Return the position a cursor of `encode_cursor` points at, or raise Invalid."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text, number = base64.urlsafe_b64decode(padded.encode()).decode().split("|")
        at, pk = datetime.fromisoformat(text), int(number)
        if at.tzinfo is None or not 0 < pk <= LARGEST_ID:
            raise ValueError(cursor)
        # In UTC, as the database compares it; the first and last days of the calendar
        # overflow here (year 1 at +01:00) rather than in the database driver.
        return at.astimezone(UTC), pk
    except (ValueError, UnicodeDecodeError, OverflowError) as exc:
        raise Invalid(
            "Unknown cursor.", errors=[{"field": "cursor", "message": "invalid"}]
        ) from exc


def ticket_page(
    tickets: QuerySet[Ticket], *, cursor: str | None, size: int
) -> tuple[list[Ticket], str | None]:
    """Return one page, newest activity first, and the cursor of the next page (or None)."""
    tickets = tickets.order_by("-updated_at", "-id")
    if cursor:
        # A row-value comparison, so PostgreSQL seeks the (updated_at, id) index to the cursor
        # instead of reading and dropping every row of the pages before it.
        position = Tuple(F("updated_at"), F("id"))
        tickets = tickets.filter(TupleLessThan(position, decode_cursor(cursor)))
    # A list never shows the search words, which can be long.
    tickets = tickets.defer("search_words")
    page = list(tickets.select_related("assignee").prefetch_related("products")[: size + 1])
    more = len(page) > size
    page = page[:size]
    return page, (encode_cursor(page[-1]) if more else None)


def queue(
    *,
    now: datetime,
    status: Status | None,
    assignee: Staff | None,
    unassigned: bool,
    search: Search | None = None,
) -> QuerySet[Ticket]:
    """The supporters' queue, filtered by status and holder, and by a search if one is given."""
    tickets = Ticket.objects.all()
    if status is not None:
        tickets = with_status(tickets, status, now)
    if unassigned:
        tickets = tickets.filter(assignee__isnull=True)
    elif assignee is not None:
        tickets = tickets.filter(assignee=assignee)
    if search is not None:
        tickets = matching(tickets, search)
    return tickets


class QueueFilter(TextChoices):
    """The named views of the queue a supporter switches between."""

    UNCLAIMED = "unclaimed"
    MINE = "mine"
    WAITING = "waiting"
    ALL = "all"


def filtered_queue(
    queue_filter: QueueFilter, *, supporter: Staff, now: datetime, search: Search | None
) -> QuerySet[Ticket]:
    """The queue as one of its named views shows it to `supporter`."""
    return queue(
        now=now,
        status=Status.OPEN if queue_filter == QueueFilter.WAITING else None,
        assignee=supporter if queue_filter == QueueFilter.MINE else None,
        unassigned=queue_filter == QueueFilter.UNCLAIMED,
        search=search,
    )


# Counting stops after this many tickets: a count over a large table on every request would
# cost more than the page itself, and "50+" says enough.
COUNT_LIMIT = 50


def queue_counts(
    *, supporter: Staff, now: datetime, search: Search | None
) -> dict[QueueFilter, int]:
    """Count each named view's tickets, but no further than COUNT_LIMIT + 1 ("more than 50")."""
    return {
        queue_filter: filtered_queue(queue_filter, supporter=supporter, now=now, search=search)
        .order_by()[: COUNT_LIMIT + 1]
        .count()
        for queue_filter in QueueFilter
    }
