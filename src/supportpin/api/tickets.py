import json
from typing import Literal

from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status
from ninja.errors import ValidationError
from pydantic import Field
from pydantic import ValidationError as SchemaError

from supportpin.access import actions as grant_actions
from supportpin.access.actions import claim_ticket, release_ticket
from supportpin.api import present
from supportpin.api.paging import PAGE_SIZE, next_link
from supportpin.api.parsing import StrictJSONParser
from supportpin.api.schemas import MessageIn, MessageOut, TicketDetailOut, TicketIn, TicketOut
from supportpin.api.security import customer_of, customer_only, staff_of, staff_only
from supportpin.lib import clock
from supportpin.lib.problems import NotFound
from supportpin.tickets import actions, attachments
from supportpin.tickets.models import Status as TicketStatus
from supportpin.tickets.models import Ticket
from supportpin.tickets.queries import COUNT_LIMIT, queue, queue_counts, ticket_page
from supportpin.tickets.search import TERM_LENGTH, Search, search_for

customer_router = Router(tags=["customer tickets"], auth=customer_only)
support_router = Router(tags=["supporter tickets"], auth=staff_only)


class CursorQuery(Schema):
    cursor: str | None = Field(default=None, max_length=200)


SEARCH_DESCRIPTION = (
    "Search: a ticket number, a customer number (any case), or words that begin words of the "
    "subject or of any message."
)


class SearchQuery(Schema):
    q: str | None = Field(default=None, max_length=TERM_LENGTH, description=SEARCH_DESCRIPTION)


class QueueQuery(CursorQuery, SearchQuery):
    status: Literal["open", "answered", "closed"] | None = None
    assignee: Literal["me", "none"] | None = None


class FilterCount(Schema):
    count: int = Field(description=f"Tickets, counted up to {COUNT_LIMIT}.")
    more: bool = Field(description=f"True when there are more than {COUNT_LIMIT}.")


class QueueCountsOut(Schema):
    unclaimed: FilterCount
    mine: FilterCount
    waiting: FilterCount
    all: FilterCount


def _search(query: SearchQuery) -> Search | None:
    return search_for(query.q) if query.q else None


def _one(tickets: QuerySet[Ticket], ticket_id: int) -> Ticket:
    """Load the ticket once, with what its presentation reads; NotFound when it is not there."""
    ticket = tickets.select_related("assignee").filter(pk=ticket_id).first()
    if ticket is None:
        raise NotFound("No ticket with this id.")
    return ticket


# A message is JSON `{"body": ...}` or a multipart form with a `body` field and `files`.
MESSAGE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/MessageIn"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["body"],
                    "properties": {
                        "body": {"type": "string", "minLength": 1, "maxLength": 10000},
                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                    },
                }
            },
        },
    }
}


def _message_in(request: HttpRequest) -> tuple[str, list[UploadedFile]]:
    """Read a message's text and files from a JSON body or a multipart form."""
    if request.content_type == "multipart/form-data":
        data: object = {"body": request.POST.get("body", "")}
        files = request.FILES.getlist("files")
    else:
        try:
            data = StrictJSONParser().parse_body(request)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValidationError([{"loc": ("body",), "msg": "not JSON"}]) from exc
        files = []
    try:
        message = MessageIn.model_validate(data)
    except SchemaError as exc:
        raise ValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from exc
    if "\x00" in message.body:
        raise ValidationError([{"loc": ("body", "body"), "msg": "text must not contain NUL"}])
    return message.body, files


def _detail(ticket: Ticket):
    # The ticket's own manager hands each message this ticket: no second load of it.
    messages = list(
        ticket.messages.select_related("author_staff")
        .prefetch_related("attachments")
        .order_by("id")
    )
    return present.ticket(ticket, clock.now(), messages=messages)


def _summary(ticket: Ticket):
    return present.ticket(ticket, clock.now())


def _page(request: HttpRequest, response: HttpResponse, tickets, cursor: str | None):
    page, next_cursor = ticket_page(tickets, cursor=cursor, size=PAGE_SIZE)
    next_link(request, response, next_cursor)
    now = clock.now()
    return [present.ticket(t, now) for t in page]


# --- customer ----------------------------------------------------------------------------


@customer_router.post("/me/tickets", response={201: TicketDetailOut})
def open_ticket(request: HttpRequest, payload: TicketIn):
    """Open a ticket, optionally naming the products it is about (only those are reachable)."""
    ticket = actions.open_ticket(
        customer=customer_of(request),
        subject=payload.subject,
        message=payload.message,
        product_ids=payload.products,
        follows_id=payload.follows,
        now=clock.now(),
    )
    return Status(201, _detail(ticket))


@customer_router.get("/me/tickets", response=list[TicketOut])
def list_my_tickets(request: HttpRequest, response: HttpResponse, query: Query[CursorQuery]):
    """My tickets, newest activity first."""
    tickets = Ticket.objects.filter(customer=customer_of(request))
    return _page(request, response, tickets, query.cursor)


@customer_router.get("/me/tickets/{ticket_id}", response=TicketDetailOut)
def get_my_ticket(request: HttpRequest, ticket_id: int):
    """One of my tickets with its conversation."""
    return _detail(_one(Ticket.objects.filter(customer=customer_of(request)), ticket_id))


@customer_router.post(
    "/me/tickets/{ticket_id}/messages", response={201: MessageOut}, openapi_extra=MESSAGE_BODY
)
def post_my_message(request: HttpRequest, ticket_id: int):
    """Write to my ticket, with files if any; a closed ticket opens again."""
    body, files = _message_in(request)
    message = grant_actions.add_customer_message(
        customer=customer_of(request), ticket_id=ticket_id, body=body, now=clock.now(), files=files
    )
    return Status(201, present.message(message))


@customer_router.get("/me/tickets/{ticket_id}/attachments/{attachment_id}")
def get_my_attachment(request: HttpRequest, ticket_id: int, attachment_id: int):
    """Download a file of my ticket."""
    own = Ticket.objects.filter(customer=customer_of(request))
    return attachments.serve(attachments.find(own, ticket_id, attachment_id), preview=False)


@customer_router.get("/me/tickets/{ticket_id}/attachments/{attachment_id}/preview")
def preview_my_attachment(request: HttpRequest, ticket_id: int, attachment_id: int):
    """Show an image of my ticket inline, in a sandbox; 404 for files that are no image."""
    own = Ticket.objects.filter(customer=customer_of(request))
    return attachments.serve(attachments.find(own, ticket_id, attachment_id), preview=True)


@customer_router.post("/me/tickets/{ticket_id}/close", response=TicketOut)
def close_my_ticket(request: HttpRequest, ticket_id: int):
    """Close my ticket: the supporter holding it loses access to my products."""
    ticket = grant_actions.close_by_customer(
        customer=customer_of(request), ticket_id=ticket_id, now=clock.now()
    )
    return _summary(ticket)


@customer_router.post("/me/tickets/{ticket_id}/reopen", response=TicketOut)
def reopen_my_ticket(request: HttpRequest, ticket_id: int):
    """Reopen my closed ticket."""
    ticket = grant_actions.reopen_by_customer(
        customer=customer_of(request), ticket_id=ticket_id, now=clock.now()
    )
    return _summary(ticket)


# --- supporter ---------------------------------------------------------------------------


@support_router.get("/support/tickets", response=list[TicketOut])
def list_queue(request: HttpRequest, response: HttpResponse, query: Query[QueueQuery]):
    """The ticket queue: `status`, `assignee=me|none`, newest activity first."""
    tickets = queue(
        now=clock.now(),
        status=TicketStatus(query.status) if query.status else None,
        assignee=staff_of(request) if query.assignee == "me" else None,
        unassigned=query.assignee == "none",
        search=_search(query),
    )
    return _page(request, response, tickets, query.cursor)


@support_router.get("/support/ticket-counts", response=QueueCountsOut)
def count_queue(request: HttpRequest, query: Query[SearchQuery]):
    """How many tickets each view of the web queue holds (with the search `q`), up to 50."""
    counts = queue_counts(supporter=staff_of(request), now=clock.now(), search=_search(query))
    return {
        queue_filter.value: {"count": min(count, COUNT_LIMIT), "more": count > COUNT_LIMIT}
        for queue_filter, count in counts.items()
    }


@support_router.get("/support/tickets/{ticket_id}", response=TicketDetailOut)
def get_ticket(request: HttpRequest, ticket_id: int):
    """Any ticket, read-only unless I hold it (customer number only, no personal data)."""
    return _detail(_one(Ticket.objects.all(), ticket_id))


@support_router.post("/support/tickets/{ticket_id}/claim", response=TicketOut)
def claim(request: HttpRequest, ticket_id: int):
    """Take the ticket over: I may then reach the customer's (named) products."""
    ticket = claim_ticket(supporter=staff_of(request), ticket_id=ticket_id, now=clock.now())
    return _summary(ticket)


@support_router.post("/support/tickets/{ticket_id}/release", response=TicketOut)
def release(request: HttpRequest, ticket_id: int):
    """Give the ticket back to the queue (assignee or admin)."""
    ticket = release_ticket(staff=staff_of(request), ticket_id=ticket_id, now=clock.now())
    return _summary(ticket)


@support_router.post(
    "/support/tickets/{ticket_id}/messages", response={201: MessageOut}, openapi_extra=MESSAGE_BODY
)
def post_reply(request: HttpRequest, ticket_id: int):
    """Answer the customer, with files if any (assignee only)."""
    body, files = _message_in(request)
    message = actions.reply(
        supporter=staff_of(request), ticket_id=ticket_id, body=body, now=clock.now(), files=files
    )
    return Status(201, present.message(message))


@support_router.get("/support/tickets/{ticket_id}/attachments/{attachment_id}")
def get_attachment(request: HttpRequest, ticket_id: int, attachment_id: int):
    """Download a file of any ticket (every supporter may read every ticket)."""
    found = attachments.find(Ticket.objects.all(), ticket_id, attachment_id)
    return attachments.serve(found, preview=False)


@support_router.get("/support/tickets/{ticket_id}/attachments/{attachment_id}/preview")
def preview_attachment(request: HttpRequest, ticket_id: int, attachment_id: int):
    """Show an image of any ticket inline, in a sandbox; 404 for files that are no image."""
    found = attachments.find(Ticket.objects.all(), ticket_id, attachment_id)
    return attachments.serve(found, preview=True)


@support_router.post("/support/tickets/{ticket_id}/close", response=TicketOut)
def close(request: HttpRequest, ticket_id: int):
    """Close the ticket (assignee only); my access ends with it."""
    ticket = grant_actions.close_by_supporter(
        supporter=staff_of(request), ticket_id=ticket_id, now=clock.now()
    )
    return _summary(ticket)


@support_router.post("/support/tickets/{ticket_id}/reopen", response=TicketOut)
def reopen(request: HttpRequest, ticket_id: int):
    """Reopen the ticket (assignee only; not one the customer closed); my access comes back."""
    ticket = grant_actions.reopen_by_supporter(
        supporter=staff_of(request), ticket_id=ticket_id, now=clock.now()
    )
    return _summary(ticket)
