"""Every change to tickets: the customer's side, the supporter's side, and what time changes."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q, QuerySet

from supportpin.accounts.models import Customer, Staff
from supportpin.accounts.queries import Recipient, customer_recipient, customer_recipients
from supportpin.audit.actions import batched_appends, record
from supportpin.audit.models import ActorKind, Event
from supportpin.lib.problems import (
    Invalid,
    NotAssignee,
    NotFound,
    TicketClaimed,
    TicketClosed,
    TicketClosedByCustomer,
    TicketLocked,
)
from supportpin.products.models import Product
from supportpin.tickets import attachments
from supportpin.tickets.models import (
    AuthorRole,
    CloseReason,
    Message,
    Status,
    Ticket,
    autoclose_age,
    lock_due_q,
    overdue_q,
)
from supportpin.tickets.search import with_words

# The basis ticket events carry in the audit log, as the access they are about is a ticket grant.
AUDIT_BASIS = "ticket"
# The customer is reminded this long before an answered ticket closes by itself.
REMINDER_LEAD = timedelta(days=2)


# --- the customer's side -----------------------------------------------------------------


def open_ticket(
    *,
    customer: Customer,
    subject: str,
    message: str,
    product_ids: list[str],
    follows_id: int | None,
    now: datetime,
) -> Ticket:
    """Open a ticket, optionally about some of the customer's products or following another."""
    products = list(Product.objects.filter(customer=customer, pk__in=set(product_ids)))
    if len(products) != len(set(product_ids)):
        raise Invalid(
            "Name only your own products.",
            errors=[{"field": "products", "message": "unknown product"}],
        )
    follows = None
    if follows_id is not None:
        follows = Ticket.objects.filter(customer=customer, pk=follows_id).first()
        if follows is None:
            raise Invalid(
                "A follow-up must name one of your tickets.",
                errors=[{"field": "follows", "message": "unknown ticket"}],
            )
    with transaction.atomic():
        ticket = Ticket.objects.create(
            customer=customer,
            subject=subject,
            search_words=with_words(with_words("", subject), message),
            follows=follows,
            scoped=bool(products),
            created_at=now,
            updated_at=now,
            last_message_at=now,
        )
        ticket.products.set(products)
        Message.objects.create(
            ticket=ticket, author_role=AuthorRole.CUSTOMER, body=message, created_at=now
        )
        _audit(Event.TICKET_CREATED, ticket, now, ActorKind.CUSTOMER, customer.number)
    return ticket


def add_customer_message(
    *,
    customer: Customer,
    ticket_id: int,
    body: str,
    now: datetime,
    files: Sequence[UploadedFile] = (),
) -> Message:
    """Add the customer's message and its files; it sets the ticket waiting for support."""
    attachments.check_files(files)
    with transaction.atomic():
        ticket = _locked_ticket(Ticket.objects.filter(customer=customer), ticket_id, now)
        _refuse_if_locked(ticket, now)
        if ticket.status == Status.CLOSED:
            _audit(Event.TICKET_REOPENED, ticket, now, ActorKind.CUSTOMER, customer.number)
        message = Message.objects.create(
            ticket=ticket, author_role=AuthorRole.CUSTOMER, body=body, created_at=now
        )
        stored = attachments.store(message, files, now)
        ticket.search_words = with_words(ticket.search_words, body)
        _set_status(ticket, Status.OPEN, now, last_message_at=now)
        _audit(
            Event.TICKET_MESSAGE,
            ticket,
            now,
            ActorKind.CUSTOMER,
            customer.number,
            detail=attachments.audit_detail(stored),
        )
    return message


def close_by_customer(*, customer: Customer, ticket_id: int, now: datetime) -> Ticket:
    """Close the customer's ticket; the assignee's access to the products ends with it."""
    with transaction.atomic():
        ticket = _locked_ticket(Ticket.objects.filter(customer=customer), ticket_id, now)
        _close(ticket, CloseReason.CUSTOMER, now, ActorKind.CUSTOMER, customer.number)
    return ticket


def reopen_by_customer(*, customer: Customer, ticket_id: int, now: datetime) -> Ticket:
    """Reopen the customer's closed ticket; the assignee gets their access back."""
    with transaction.atomic():
        ticket = _locked_ticket(Ticket.objects.filter(customer=customer), ticket_id, now)
        _reopen(ticket, now, ActorKind.CUSTOMER, customer.number)
    return ticket


# --- the supporter's side ----------------------------------------------------------------


@dataclass(frozen=True)
class Assignment:
    ticket: Ticket
    # False when the supporter already held the ticket: nothing changed.
    changed: bool


def assign_ticket(*, supporter: Staff, ticket_id: int, now: datetime) -> Assignment:
    """Make `supporter` the assignee of a ticket nobody holds, in the caller's transaction.

    This is the helpdesk half of a claim. The claim's audit entry names the access the claim
    opens, so the caller that opens it (`access.actions.claim_ticket`) writes the entry.
    """
    with transaction.atomic():
        # The row lock settles a race of claims: the first holds the ticket, the rest then
        # see its assignee and get ticket_claimed.
        ticket = _locked_ticket(Ticket.objects.all(), ticket_id, now)
        _refuse_if_locked(ticket, now)
        holder = ticket.assignee
        if holder == supporter:
            return Assignment(ticket=ticket, changed=False)
        if holder is not None:
            raise TicketClaimed(f"{holder.display_name} holds this ticket.")
        if ticket.status == Status.CLOSED:
            raise TicketClosed("Closed tickets cannot be claimed; the customer can reopen it.")
        ticket.assignee = supporter
        ticket.updated_at = now
        ticket.save(update_fields=["assignee", "updated_at"])
    return Assignment(ticket=ticket, changed=True)


def release_ticket(*, staff: Staff, ticket_id: int, now: datetime) -> Ticket:
    """Give a ticket back to the queue (its assignee, or any admin)."""
    with transaction.atomic():
        ticket = _locked_ticket(Ticket.objects.all(), ticket_id, now)
        _refuse_if_locked(ticket, now)
        holder = ticket.assignee
        if holder is None:
            return ticket
        if holder != staff and not staff.is_admin:
            raise NotAssignee()
        held_by = holder.display_name
        ticket.assignee = None
        ticket.updated_at = now
        ticket.save(update_fields=["assignee", "updated_at"])
        _audit(
            Event.TICKET_RELEASED, ticket, now, *_staff_actor(staff), detail={"held_by": held_by}
        )
    return ticket


def reply(
    *,
    supporter: Staff,
    ticket_id: int,
    body: str,
    now: datetime,
    files: Sequence[UploadedFile] = (),
) -> Message:
    """The assignee answers, with files if any; the customer is told by e-mail."""
    attachments.check_files(files)
    with transaction.atomic():
        ticket = _locked_ticket(Ticket.objects.all(), ticket_id, now)
        _refuse_unless_assignee(ticket, supporter, now)
        if ticket.status == Status.CLOSED:
            raise TicketClosed("Reopen the ticket before you answer.")
        message = Message.objects.create(
            ticket=ticket,
            author_role=AuthorRole.SUPPORTER,
            author_staff=supporter,
            body=body,
            created_at=now,
        )
        stored = attachments.store(message, files, now)
        ticket.search_words = with_words(ticket.search_words, body)
        _set_status(ticket, Status.ANSWERED, now, last_message_at=now)
        customer_recipient(ticket.customer_id).queue(
            "ticket_reply",
            {"ticket": _mailed(ticket), "supporter": supporter.display_name, "body": body},
            now=now,
        )
        _audit(
            Event.TICKET_REPLIED,
            ticket,
            now,
            *_staff_actor(supporter),
            detail=attachments.audit_detail(stored),
        )
    return message


def close_by_supporter(*, supporter: Staff, ticket_id: int, now: datetime) -> Ticket:
    """The assignee closes the ticket; their access to the products ends with it."""
    with transaction.atomic():
        ticket = _locked_ticket(Ticket.objects.all(), ticket_id, now)
        _refuse_unless_assignee(ticket, supporter, now)
        _close(ticket, CloseReason.SUPPORTER, now, *_staff_actor(supporter))
    return ticket


def reopen_by_supporter(*, supporter: Staff, ticket_id: int, now: datetime) -> Ticket:
    """The assignee reopens the ticket, unless the customer closed it (only they reopen that)."""
    with transaction.atomic():
        ticket = _locked_ticket(Ticket.objects.all(), ticket_id, now)
        _refuse_unless_assignee(ticket, supporter, now)
        if ticket.closed_by_customer():
            # The customer's close is how they end the assignee's access; a reopen by the
            # assignee would give it back without their consent.
            raise TicketClosedByCustomer("The customer closed this ticket; only they reopen it.")
        _reopen(ticket, now, *_staff_actor(supporter))
    return ticket


# --- what time changes -------------------------------------------------------------------


def materialise_due(*, now: datetime, limit: int = 500) -> tuple[int, int, int]:
    """Write down auto-closes and locks that time has made, and send due reminders.

    The rules never wait for this (they are computed from timestamps); it keeps listings,
    indexes and notifications in step. Returns (auto-closed, locked, reminded).
    """
    overdue = overdue_q(now)
    unlocked = Q(locked_at__isnull=True) & lock_due_q(now)
    autoclosed = locked = 0
    with batched_appends():
        # skip_locked: parallel workers take disjoint tickets; each is written down once.
        # No ORDER BY: the two partial indexes answer the OR by themselves; an order by pk
        # would walk past every ticket already written down.
        due = list(
            Ticket.objects.select_for_update(skip_locked=True).filter(overdue | unlocked)[:limit]
        )
        changes = [(ticket, *_apply_time(ticket, now)) for ticket in due]
        Ticket.objects.bulk_update(due, TIME_FIELDS)
        recipients = customer_recipients({t.customer_id for t, closes, _ in changes if closes})
        for ticket, closes, locks in changes:
            to = recipients.get(ticket.customer_id)
            _record_time(ticket, closes=closes, locks=locks, to=to, now=now)
            autoclosed += closes
            locked += locks
    reminded = 0
    with transaction.atomic():
        # skip_locked: two workers split the due reminders; clearing remind_at in the same
        # transaction means no reminder is queued twice.
        due = list(
            Ticket.objects.select_for_update(skip_locked=True)
            .filter(remind_at__lte=now)
            .order_by("remind_at")[:limit]
        )
        for ticket in due:
            if ticket.is_live(now) and ticket.status == Status.ANSWERED:
                reminded += 1
                _queue_reminder(ticket, now)
        Ticket.objects.filter(pk__in=[t.pk for t in due]).update(remind_at=None)
    return autoclosed, locked, reminded


# What time changes on a ticket; saved together so a ticket is written once per catch-up.
TIME_FIELDS = ["status", "closed_at", "close_reason", "locked_at", "remind_at"]


def _catch_up(ticket: Ticket, now: datetime) -> None:
    """Write down what time has done to a ticket locked for update (a request's catch-up)."""
    closes, locks = _apply_time(ticket, now)
    if closes or locks:
        ticket.save(update_fields=TIME_FIELDS)
        to = customer_recipient(ticket.customer_id) if closes else None
        _record_time(ticket, closes=closes, locks=locks, to=to, now=now)


def _apply_time(ticket: Ticket, now: datetime) -> tuple[bool, bool]:
    """Apply, in memory, an auto-close and a lock that are due; return which ones were."""
    deadline = ticket.autocloses_at()
    closes = deadline is not None and now >= deadline
    locks = ticket.locked_at is None and ticket.is_locked(now)
    if closes:
        ticket.status = Status.CLOSED
        ticket.closed_at = deadline
        ticket.close_reason = CloseReason.INACTIVITY
    if locks:
        ticket.locked_at = ticket.locks_at()
    if closes or locks:
        ticket.remind_at = None
    return closes, locks


def _record_time(
    ticket: Ticket, *, closes: bool, locks: bool, to: Recipient | None, now: datetime
) -> None:
    """Tell the customer about an auto-close and write both changes to the audit log."""
    if closes:
        if to is not None:
            to.queue(
                "ticket_auto_closed",
                {"ticket": _mailed(ticket), "days": autoclose_age().days},
                now=now,
            )
        closed_at = ticket.last_message_at + autoclose_age()
        _audit(Event.TICKET_AUTO_CLOSED, ticket, closed_at, ActorKind.SYSTEM, "Support-PIN")
    if locks:
        _audit(Event.TICKET_LOCKED, ticket, ticket.locks_at(), ActorKind.SYSTEM, "Support-PIN")


def _queue_reminder(ticket: Ticket, now: datetime) -> None:
    deadline = ticket.autocloses_at()
    assert deadline is not None  # reminders are due only for answered tickets
    customer_recipient(ticket.customer_id).queue(
        "ticket_closes_soon", {"ticket": _mailed(ticket), "closes": deadline}, now=now
    )


def _mailed(ticket: Ticket) -> dict:
    """What a customer's e-mail says of their ticket (rendered when it is sent)."""
    return {"pk": ticket.pk, "subject": ticket.subject}


# --- shared ------------------------------------------------------------------------------


def _locked_ticket(tickets: QuerySet[Ticket], ticket_id: int, now: datetime) -> Ticket:
    # No join here: a claim that waited for the lock must see the assignee committed before it.
    ticket = tickets.select_for_update().filter(pk=ticket_id).first()
    if ticket is None:
        raise NotFound("No ticket with this id.")
    _catch_up(ticket, now)
    return ticket


def _refuse_if_locked(ticket: Ticket, now: datetime) -> None:
    if ticket.is_locked(now):
        raise TicketLocked("This ticket is locked; open a follow-up ticket instead.")


def _refuse_unless_assignee(ticket: Ticket, supporter: Staff, now: datetime) -> None:
    _refuse_if_locked(ticket, now)
    if ticket.assignee_id != supporter.pk:
        raise NotAssignee("Claim the ticket first; until then you may only read it.")


def _close(ticket: Ticket, reason: CloseReason, now: datetime, kind: ActorKind, actor: str):
    _refuse_if_locked(ticket, now)
    if ticket.status == Status.CLOSED:
        return
    ticket.closed_at = now
    ticket.close_reason = reason
    _set_status(ticket, Status.CLOSED, now)
    _audit(Event.TICKET_CLOSED, ticket, now, kind, actor)


def _reopen(ticket: Ticket, now: datetime, kind: ActorKind, actor: str) -> None:
    _refuse_if_locked(ticket, now)
    if ticket.status != Status.CLOSED:
        return
    _set_status(ticket, Status.OPEN, now)
    _audit(Event.TICKET_REOPENED, ticket, now, kind, actor)


def _set_status(
    ticket: Ticket, status: Status, now: datetime, *, last_message_at: datetime | None = None
) -> None:
    ticket.status = status
    ticket.updated_at = now
    if status != Status.CLOSED:
        ticket.closed_at, ticket.close_reason = None, ""
    if last_message_at is not None:
        ticket.last_message_at = last_message_at
    # Only an answered ticket can auto-close, so only it needs a reminder.
    answered = status == Status.ANSWERED
    ticket.remind_at = (
        ticket.last_message_at + autoclose_age() - REMINDER_LEAD if answered else None
    )
    ticket.save()


def _staff_actor(staff: Staff) -> tuple[ActorKind, str]:
    return ActorKind(staff.role), staff.display_name


def _audit(
    event: Event, ticket: Ticket, at: datetime, kind: ActorKind, actor: str, **fields
) -> None:
    record(
        event=event,
        at=at,
        actor_kind=kind,
        actor=actor,
        customer=ticket.customer_id,
        basis=AUDIT_BASIS,
        ticket_id=ticket.pk,
        **fields,
    )
