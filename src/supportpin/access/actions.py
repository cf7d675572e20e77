"""Every change to Support-PINs, grants and guessing limits."""

import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import CharField, F, IntegerField, Q, Subquery

from supportpin.access import events
from supportpin.access.metrics import BLOCKED_SUPPORTERS, REDEMPTIONS, WRONG_PINS
from supportpin.access.models import Basis, EndReason, Grant, PinAttempt, SupportPin, derive_pin
from supportpin.access.queries import admins_told_of_block, block_notice_key
from supportpin.accounts.models import Customer, Role, Staff
from supportpin.accounts.queries import read_along_recipient, recipient_along
from supportpin.audit.actions import record
from supportpin.audit.models import ActorKind, Event
from supportpin.lib.hashing import same
from supportpin.lib.metrics import count_on_commit
from supportpin.lib.prepared import Param, PreparedQuery
from supportpin.lib.problems import Invalid, NotFound, PinInvalid, TicketGrant, TooManyAttempts
from supportpin.notify.actions import batched_messages, queue_email
from supportpin.tickets import actions as ticket_actions
from supportpin.tickets.models import CloseReason, Ticket, lock_due_q, overdue_q
from supportpin.tickets.models import Status as TicketStatus

PIN_INPUT = re.compile(r"[0-9][0-9 \-]*")
# A seed no customer has: wrong guesses against nothing cost the same as against a real PIN.
DECOY_SEED = "00" * 16


def normalize_pin(raw: str) -> str:
    """Return the digits of a PIN typed with spaces or dashes; raise Invalid for anything else."""
    text = raw.strip()
    if not PIN_INPUT.fullmatch(text) or len(text) > 32:
        raise Invalid("A PIN consists of digits.", errors=[{"field": "pin", "message": "digits"}])
    return re.sub(r"[ \-]", "", text)


# --- customer side -------------------------------------------------------------------------


def open_support_pin(*, customer: Customer, now: datetime) -> SupportPin:
    """Return the customer's usable PIN, issuing a fresh one when there is none."""
    with transaction.atomic():
        pin = _locked_live_pin(customer)
        if pin is not None and pin.is_usable(now):
            return pin
        if pin is not None:
            _end_pin(pin, EndReason.EXPIRED, at=pin.expires_at, now=now, by=None)
        return _issue_pin(customer, now)


def rotate_pin(*, customer: Customer, now: datetime) -> SupportPin:
    """End the customer's PIN (and any grant from it) and issue a new one."""
    with transaction.atomic():
        pin = _locked_live_pin(customer)
        if pin is not None:
            reason = EndReason.ROTATED if pin.is_usable(now) else EndReason.EXPIRED
            at = min(now, pin.expires_at)
            _end_pin(pin, reason, at=at, now=now, by=_customer_actor(customer))
        return _issue_pin(customer, now)


def revoke_grant(*, customer: Customer, grant_id: int, now: datetime) -> None:
    """End a PIN grant on the customer's account by deactivating its PIN."""
    with transaction.atomic():
        grant = _live_grant(Grant.objects.filter(customer=customer), grant_id, now)
        if grant.pin_id is None:
            raise TicketGrant("Close the ticket to end this supporter's access.")
        pin = _locked_pin_of_grant(grant.pin_id)
        _end_pin(pin, EndReason.REVOKED, at=now, now=now, by=_customer_actor(customer))


def _locked_live_pin(customer: Customer) -> SupportPin | None:
    # Locking the customer row serialises issue and rotation for one customer, so two tabs
    # opening "Support" at once get the same PIN instead of tripping the one-live-PIN index.
    # no_key: a redemption's grant INSERT takes a KEY SHARE lock on this row for its foreign
    # key, which FOR UPDATE would block; FOR NO KEY UPDATE still excludes the other tab.
    Customer.objects.select_for_update(no_key=True).filter(pk=customer.pk).values("pk").first()
    # Then the PIN, as every path does (customer before PIN, "Lock order").
    return (
        SupportPin.objects.select_for_update(no_key=True)
        .filter(customer=customer, ended_at__isnull=True)
        .first()
    )


def _issue_pin(customer: Customer, now: datetime) -> SupportPin:
    pin = SupportPin.objects.create(
        customer=customer,
        seed=secrets.token_hex(16),
        length=settings.SUPPORTPIN_PIN_LENGTH,
        issued_at=now,
        expires_at=now + timedelta(minutes=settings.SUPPORTPIN_PIN_TTL_MINUTES),
    )
    record(
        event=Event.PIN_ISSUED,
        at=now,
        actor_kind=ActorKind.CUSTOMER,
        actor=customer.number,
        customer=customer.number,
        detail={"expires_at": pin.expires_at.isoformat()},
    )
    return pin


# --- supporter side ------------------------------------------------------------------------


# A redemption's two locks, compiled once (lib.prepared): it is the busiest write path.
# no_key: these locks only serialise, and must not block the KEY SHARE locks that rows
# inserted beside them (the grant, a guessing attempt) take on the rows they refer to.
_SUPPORTER_LOCK = PreparedQuery(
    lambda: Staff.objects.select_for_update(no_key=True).filter(
        pk=Param("supporter", IntegerField())
    )
)
_LIVE_PIN_LOCK = PreparedQuery(
    lambda: (
        # of=("self",): PostgreSQL cannot lock the nullable side of the e-mail address's join.
        SupportPin.objects.select_for_update(of=("self",), no_key=True)
        # Where the customer's e-mail about the redemption (or the locked PIN) goes.
        .annotate(**recipient_along("customer__"))
        # The customer's number in any case (its own index finds it); one live PIN at most.
        .filter(
            customer_id=Subquery(
                Customer.objects.numbered(Param("customer", CharField())).values("pk")
            ),
            ended_at__isnull=True,
        )
    )
)


@dataclass(frozen=True)
class Redemption:
    grant: Grant
    created: bool


def redeem_pin(*, supporter: Staff, customer_number: str, pin: str, now: datetime) -> Redemption:
    """Open (or return again) the supporter's PIN grant for the customer.

    Raises TooManyAttempts while the supporter is blocked and PinInvalid for anything else
    that is not the customer's live PIN, with one answer for every kind of wrong.
    """
    digits = normalize_pin(pin)
    # The caller's fresh read of the supporter settles a known block without any lock, so a
    # blocked supporter's retries queue behind nobody and hold up nobody.
    _refuse_if_blocked(supporter)
    # One transaction; the grant event and the customer's e-mail go into the outbox together.
    with batched_messages():
        # The supporter's row is the lock for their guessing counter: parallel wrong guesses
        # queue here, each sees the ones before it, and none escapes the limit.
        [supporter] = _SUPPORTER_LOCK.run({"supporter": supporter.pk})
        _refuse_if_blocked(supporter)
        # "k10001" is customer K10001: the right PIN under another spelling is not a wrong
        # guess. A customer without a live PIN (or no such customer) locks nothing.
        live = _LIVE_PIN_LOCK.first({"customer": customer_number})
        if live is not None and not live.is_usable(now):
            live = None
        if live is not None:
            expected = derive_pin(live.seed, live.length)
        else:
            expected = derive_pin(DECOY_SEED, settings.SUPPORTPIN_PIN_LENGTH)
        if live is not None and same(expected, digits):
            redemption = _redeem(live, supporter, now)
            if redemption is not None:
                return redemption
            # The right PIN, but another supporter holds it: same answer, not a guess.
        else:
            _count_wrong_pin(supporter, customer_number, live, now)
    # Raised after the commit, so the counted attempt (and any block) is kept.
    raise PinInvalid()


def _refuse_if_blocked(supporter: Staff) -> None:
    if supporter.blocked_at is None:
        return
    # Only claim that an admin knows when the notice really went into the outbox: with no
    # admin address configured nobody was told, and the supporter must go and ask.
    if admins_told_of_block(supporter):
        raise TooManyAttempts(
            "An admin has been told and must unlock you before you can redeem PINs again.",
            admins_told=True,
        )
    raise TooManyAttempts("An admin must unlock you before you can redeem PINs again.")


def _redeem(pin: SupportPin, supporter: Staff, now: datetime) -> Redemption | None:
    if pin.redeemed_by_id == supporter.pk:
        return Redemption(grant=pin.grant, created=False)
    if pin.redeemed_by_id is not None:
        return None
    pin.redeemed_by, pin.redeemed_at = supporter, now
    pin.save(update_fields=["redeemed_by", "redeemed_at"])
    grant = Grant.objects.create(
        basis=Basis.PIN,
        supporter=supporter,
        customer_id=pin.customer_id,
        pin=pin,
        started_at=now,
        ends_at=pin.expires_at,
    )
    events.grant_started(grant, now=now)
    read_along_recipient(pin).queue(
        "pin_redeemed",
        {"supporter": supporter.display_name, "at": now, "until": pin.expires_at},
        now=now,
    )
    record(
        event=Event.PIN_REDEEMED,
        at=now,
        actor_kind=ActorKind(supporter.role),
        actor=supporter.display_name,
        customer=pin.customer_id,
        basis=Basis.PIN,
        grant_id=grant.pk,
        detail={"until": pin.expires_at.isoformat()},
    )
    count_on_commit(REDEMPTIONS)
    return Redemption(grant=grant, created=True)


def _count_wrong_pin(
    supporter: Staff, customer_number: str, pin: SupportPin | None, now: datetime
) -> None:
    PinAttempt.objects.create(supporter=supporter, customer_number=customer_number, at=now)
    count_on_commit(WRONG_PINS)
    if pin is not None:
        SupportPin.objects.filter(pk=pin.pk).update(failed_attempts=F("failed_attempts") + 1)
        pin.refresh_from_db(fields=["failed_attempts"])
        record(
            event=Event.PIN_ATTEMPT_FAILED,
            at=now,
            actor_kind=ActorKind.SUPPORTER,
            actor=supporter.display_name,
            customer=pin.customer_id,
            detail={"failed_attempts": pin.failed_attempts},
        )
        if pin.failed_attempts >= settings.SUPPORTPIN_PIN_MAX_FAILURES:
            _end_pin(pin, EndReason.TOO_MANY_FAILURES, at=now, now=now, by=None)
            read_along_recipient(pin).queue("pin_locked", {}, now=now)
    window_start = now - timedelta(hours=settings.SUPPORTPIN_SUPPORTER_FAILURE_WINDOW_HOURS)
    if supporter.unlocked_at is not None:
        window_start = max(window_start, supporter.unlocked_at)
    wrong = PinAttempt.objects.filter(supporter=supporter, at__gt=window_start).count()
    if wrong >= settings.SUPPORTPIN_SUPPORTER_MAX_FAILURES:
        _block(supporter, wrong, now)


def _block(supporter: Staff, wrong: int, now: datetime) -> None:
    Staff.objects.filter(pk=supporter.pk).update(blocked_at=now)
    count_on_commit(BLOCKED_SUPPORTERS)
    admins = Staff.objects.filter(role=Role.ADMIN, is_active=True).exclude(email="")
    queue_email(
        to=sorted({*settings.SUPPORTPIN_ADMIN_EMAILS, *admins.values_list("email", flat=True)}),
        subject=f"Support-PIN: {supporter.display_name} blocked after {wrong} wrong PINs",
        body=(
            f"The supporter {supporter.display_name} ({supporter.username}) entered {wrong} "
            f"wrong Support-PINs within {settings.SUPPORTPIN_SUPPORTER_FAILURE_WINDOW_HOURS} "
            "hours and can no longer redeem PINs. Unlock them in the admin pages or with "
            f"POST /api/v1/staff/{supporter.username}/unlock once you have checked why."
        ),
        now=now,
        dedupe_key=block_notice_key(supporter, now),
    )
    record(
        event=Event.SUPPORTER_BLOCKED,
        at=now,
        actor_kind=ActorKind.SYSTEM,
        actor="Support-PIN",
        detail={"supporter": supporter.display_name, "wrong_attempts": wrong},
    )


def end_grant(*, supporter: Staff, grant_id: int, now: datetime) -> None:
    """End the supporter's own PIN grant ("PIN deaktivieren")."""
    with transaction.atomic():
        grant = _live_grant(Grant.objects.filter(supporter=supporter), grant_id, now)
        if grant.pin_id is None:
            raise TicketGrant("Release or close the ticket to end this access.")
        pin = _locked_pin_of_grant(grant.pin_id)
        _end_pin(pin, EndReason.DEACTIVATED, at=now, now=now, by=_staff_actor(supporter))


def unlock_supporter(*, staff: Staff, actor_kind: ActorKind, actor: str, now: datetime) -> None:
    """Lift a supporter's guessing block; wrong PINs before now no longer count."""
    with transaction.atomic():
        was_blocked = Staff.objects.filter(pk=staff.pk, blocked_at__isnull=False).update(
            blocked_at=None, unlocked_at=now
        )
        if was_blocked:
            record(
                event=Event.SUPPORTER_UNLOCKED,
                at=now,
                actor_kind=actor_kind,
                actor=actor,
                detail={"supporter": staff.display_name},
            )


def end_grants_of(*, supporter: Staff, now: datetime) -> None:
    """End every grant a supporter holds (their account was disabled)."""
    with transaction.atomic():
        # The PINs, then the tickets and their grants, then (in _end_pin, which writes to the
        # audit log) the PINs' grants: the lock order of every path ("Lock order").
        pins = list(
            SupportPin.objects.select_for_update(no_key=True).filter(
                redeemed_by=supporter, ended_at__isnull=True, expires_at__gt=now
            )
        )
        tickets = Grant.objects.filter(basis=Basis.TICKET, supporter=supporter, ended_at=None)
        for ticket_id in tickets.values_list("ticket_id", flat=True):
            _settle_ticket_grant(_lock_ticket(ticket_id), now)
        for pin in pins:
            _end_pin(pin, EndReason.SUPPORTER_DISABLED, at=now, now=now, by=None)


def expire_due_pins(*, now: datetime, limit: int = 500) -> int:
    """Mark PINs past their expiry as ended (the rules never wait for this); return how many."""
    with transaction.atomic():
        # skip_locked: several workers split the due PINs instead of ending one twice.
        due = list(
            SupportPin.objects.select_for_update(skip_locked=True, of=("self",), no_key=True)
            .select_related("grant")
            .filter(ended_at__isnull=True, expires_at__lte=now)
            .order_by("expires_at")[:limit]
        )
        for pin in due:
            _end_pin(pin, EndReason.EXPIRED, at=pin.expires_at, now=now, by=None)
    return len(due)


# --- ticket grants -------------------------------------------------------------------------
# Every ticket change that gives or takes access runs through here, so the grant is opened and
# ended in the transaction of the change and every grant lives in this app. Whether a ticket
# grant is alive at a moment is still decided by access.live_grants, from timestamps alone.


def claim_ticket(*, supporter: Staff, ticket_id: int, now: datetime) -> Ticket:
    """Take over a ticket nobody holds and open its grant to the customer's products."""
    with transaction.atomic():
        _settle_ticket_grant(_lock_ticket(ticket_id), now)
        assignment = ticket_actions.assign_ticket(supporter=supporter, ticket_id=ticket_id, now=now)
        ticket = assignment.ticket
        grant = _settle_ticket_grant(ticket, now)
        if assignment.changed:
            actor = _staff_actor(supporter)
            record(
                event=Event.TICKET_CLAIMED,
                at=now,
                actor_kind=actor.kind,
                actor=actor.name,
                customer=ticket.customer_id,
                basis=Basis.TICKET,
                ticket_id=ticket.pk,
                grant_id=grant.pk if grant else None,
            )
    return ticket


def release_ticket(*, staff: Staff, ticket_id: int, now: datetime) -> Ticket:
    """Give a ticket back to the queue (its assignee, or any admin) and end its grant."""
    return _changing_ticket(ticket_id, now, ticket_actions.release_ticket, staff=staff)


def add_customer_message(
    *,
    customer: Customer,
    ticket_id: int,
    body: str,
    now: datetime,
    files: Sequence[UploadedFile] = (),
):
    """Add the customer's message; reopening the ticket gives its holder access again."""
    with transaction.atomic():
        # See _changing_ticket: time may have ended the grant before the message reopens.
        _settle_ticket_grant(_lock_ticket(ticket_id), now)
        message = ticket_actions.add_customer_message(
            customer=customer, ticket_id=ticket_id, body=body, now=now, files=files
        )
        _settle_ticket_grant(message.ticket, now)
    return message


def close_by_customer(*, customer: Customer, ticket_id: int, now: datetime) -> Ticket:
    """Close the customer's ticket; the holder's access to the products ends with it."""
    return _changing_ticket(ticket_id, now, ticket_actions.close_by_customer, customer=customer)


def reopen_by_customer(*, customer: Customer, ticket_id: int, now: datetime) -> Ticket:
    """Reopen the customer's closed ticket; its holder gets access again."""
    return _changing_ticket(ticket_id, now, ticket_actions.reopen_by_customer, customer=customer)


def close_by_supporter(*, supporter: Staff, ticket_id: int, now: datetime) -> Ticket:
    """The holder closes the ticket; their access to the products ends with it."""
    return _changing_ticket(ticket_id, now, ticket_actions.close_by_supporter, supporter=supporter)


def reopen_by_supporter(*, supporter: Staff, ticket_id: int, now: datetime) -> Ticket:
    """The holder reopens the ticket (unless the customer closed it) and has access again."""
    return _changing_ticket(ticket_id, now, ticket_actions.reopen_by_supporter, supporter=supporter)


def end_due_ticket_grants(*, now: datetime, limit: int = 500) -> int:
    """End the ticket grants that time or a change has ended, as of that moment; return how many.

    Access never waits for this (`live_grants` decides from timestamps); it writes the end
    down and sends `grant.ended` for auto-closes and locks that no request has noticed.
    """
    ended = 0
    with transaction.atomic():
        # skip_locked: parallel workers take disjoint grants, and a request settling the same
        # ticket holds the grant's lock, so each end is written (and announced) once.
        due = (
            Grant.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(basis=Basis.TICKET, ended_at__isnull=True)
            .filter(
                Q(ticket__status=TicketStatus.CLOSED)
                | overdue_q(now, via="ticket__")
                | lock_due_q(now, via="ticket__")
                | ~Q(ticket__assignee=F("supporter"))
                | Q(supporter__is_active=False)
            )
            .select_related("supporter")[:limit]
        )
        # Read after the lock: a request that changed the ticket has committed by now.
        tickets = Ticket.objects.in_bulk([grant.ticket_id for grant in due])
        for grant in due:
            ended += _end_ticket_grant(grant, tickets[grant.ticket_id], now)
    return ended


def _changing_ticket(
    ticket_id: int, now: datetime, change: Callable[..., Ticket], **args
) -> Ticket:
    """Run a ticket `change` with its grant settled before (time) and after (the change)."""
    with transaction.atomic():
        # Before: an auto-close or lock that time made must end the old grant at its moment,
        # even when the change (a reopen) gives the holder access again right after it.
        _settle_ticket_grant(_lock_ticket(ticket_id), now)
        ticket = change(ticket_id=ticket_id, now=now, **args)
        _settle_ticket_grant(ticket, now)
    return ticket


# What settling a ticket's grant reads of the ticket, before the change loads it in full.
SETTLE_FIELDS = [
    "customer_id",
    "status",
    "assignee_id",
    "scoped",
    "created_at",
    "last_message_at",
    "closed_at",
    "close_reason",
]


def _lock_ticket(ticket_id: int) -> Ticket | None:
    # The ticket before its grant ("Lock order"); the change locks it again, at no cost.
    return Ticket.objects.select_for_update().only(*SETTLE_FIELDS).filter(pk=ticket_id).first()


def _settle_ticket_grant(ticket: Ticket | None, now: datetime) -> Grant | None:
    """Make the grant of a locked ticket agree with it at `now`; return its live grant, if any.

    A grant the ticket no longer gives ends as of the moment it lost it; a holder with access
    and no grant (a claim, a reopen) gets a new one. One grant is one period of access, so
    each ends, and is announced, once.
    """
    if ticket is None:
        return None
    grant = (
        Grant.objects.select_for_update(of=("self",))
        .select_related("supporter")
        .filter(ticket=ticket, ended_at__isnull=True)
        .first()
    )
    if grant is not None and not _end_ticket_grant(grant, ticket, now):
        return grant
    holder = ticket.assignee
    if holder is None or not holder.is_active or not ticket.is_live(now):
        return None
    grant = Grant.objects.create(
        basis=Basis.TICKET,
        supporter=holder,
        customer_id=ticket.customer_id,
        ticket=ticket,
        started_at=now,
    )
    events.grant_started(grant, now=now)
    return grant


def _end_ticket_grant(grant: Grant, ticket: Ticket, now: datetime) -> bool:
    """End a locked ticket grant if its ticket no longer gives it; return whether it ended."""
    grant.ticket = ticket  # as read under the locks: the event names its products
    end = _ticket_grant_end(grant, ticket, now)
    if end is None:
        return False
    at, reason = end
    Grant.objects.filter(pk=grant.pk).update(ended_at=at, end_reason=reason)
    events.grant_ended(grant, reason, at=at, now=now)
    return True


def _ticket_grant_end(
    grant: Grant, ticket: Ticket, now: datetime
) -> tuple[datetime, EndReason] | None:
    """Return when and why `ticket` stopped giving `grant` by `now` (the earliest), or None."""
    ends = []
    if ticket.status == TicketStatus.CLOSED:
        by_time = ticket.close_reason == CloseReason.INACTIVITY
        reason = EndReason.TICKET_AUTOCLOSED if by_time else EndReason.TICKET_CLOSED
        ends.append((ticket.closed_at or now, reason))
    autocloses_at = ticket.autocloses_at()
    if autocloses_at is not None and autocloses_at <= now:
        ends.append((autocloses_at, EndReason.TICKET_AUTOCLOSED))
    if ticket.is_locked(now):
        ends.append((ticket.locks_at(), EndReason.TICKET_LOCKED))
    # A release or a disable settles the grant in its own transaction, so `now` is its moment.
    if ticket.assignee_id != grant.supporter_id:
        ends.append((now, EndReason.RELEASED))
    if not grant.supporter.is_active:
        ends.append((now, EndReason.SUPPORTER_DISABLED))
    if not ends:
        return None
    at, reason = min(ends, key=lambda end: end[0])
    return max(at, grant.started_at), reason


# --- shared --------------------------------------------------------------------------------


def _live_grant(grants, grant_id: int, now: datetime) -> Grant:
    # Unlocked: a PIN grant ends only through its PIN, which is locked first ("Lock order").
    grant = grants.select_related("ticket").filter(pk=grant_id, ended_at__isnull=True).first()
    if grant is None or not grant.is_live(now):
        raise NotFound("No active grant with this id.")
    return grant


def _locked_pin_of_grant(pin_id: int) -> SupportPin:
    """Lock and return the live PIN `pin_id` of a grant; raise NotFound once it has ended."""
    # The PIN before its grant, as rotation and redemption take them ("Lock order"); a PIN
    # grant ends only with its PIN, so a PIN still live under the lock means a live grant.
    pin = (
        SupportPin.objects.select_for_update(no_key=True)
        .filter(pk=pin_id, ended_at__isnull=True)
        .first()
    )
    if pin is None:
        raise NotFound("No active grant with this id.")
    return pin


@dataclass(frozen=True)
class _Actor:
    kind: ActorKind
    name: str


def _customer_actor(customer: Customer) -> _Actor:
    return _Actor(ActorKind.CUSTOMER, customer.number)


def _staff_actor(staff: Staff) -> _Actor:
    return _Actor(ActorKind(staff.role), staff.display_name)


def _end_pin(
    pin: SupportPin, reason: EndReason, *, at: datetime, now: datetime, by: _Actor | None
) -> None:
    """Deactivate `pin` as of `at` and end the grant it opened, at once and in one transaction."""
    SupportPin.objects.filter(pk=pin.pk).update(ended_at=at, end_reason=reason)
    grant = Grant.objects.select_related("supporter").filter(pin=pin, ended_at__isnull=True).first()
    if grant is not None:
        Grant.objects.filter(pk=grant.pk).update(ended_at=at, end_reason=reason)
        events.grant_ended(grant, reason, at=at, now=now)
    actor = by or _Actor(ActorKind.SYSTEM, "Support-PIN")
    record(
        event=Event.PIN_DEACTIVATED,
        at=at,
        actor_kind=actor.kind,
        actor=actor.name,
        customer=pin.customer_id,
        basis=Basis.PIN if grant else "",
        grant_id=grant.pk if grant else None,
        detail={"reason": reason},
    )
