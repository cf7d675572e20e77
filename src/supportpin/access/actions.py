"""Every change to Support-PINs, grants and guessing limits."""

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F

from supportpin.access.metrics import BLOCKED_SUPPORTERS, REDEMPTIONS, WRONG_PINS
from supportpin.access.models import Basis, EndReason, Grant, PinAttempt, SupportPin, derive_pin
from supportpin.accounts.models import Customer, Role, Staff
from supportpin.accounts.queries import customer_email
from supportpin.audit.actions import record
from supportpin.audit.models import ActorKind, Event
from supportpin.lib.hashing import same
from supportpin.lib.metrics import count_on_commit
from supportpin.lib.problems import Invalid, NotFound, PinInvalid, TicketGrant, TooManyAttempts
from supportpin.notify.actions import queue_email
from supportpin.tickets import actions as ticket_actions
from supportpin.tickets.models import Ticket

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
            _end_pin(pin, EndReason.EXPIRED, now=pin.expires_at, by=None)
        return _issue_pin(customer, now)


def rotate_pin(*, customer: Customer, now: datetime) -> SupportPin:
    """End the customer's PIN (and any grant from it) and issue a new one."""
    with transaction.atomic():
        pin = _locked_live_pin(customer)
        if pin is not None:
            reason = EndReason.ROTATED if pin.is_usable(now) else EndReason.EXPIRED
            _end_pin(pin, reason, now=min(now, pin.expires_at), by=_customer_actor(customer))
        return _issue_pin(customer, now)


def revoke_grant(*, customer: Customer, grant_id: int, now: datetime) -> None:
    """End a PIN grant on the customer's account by deactivating its PIN."""
    with transaction.atomic():
        grant = _live_grant(Grant.objects.filter(customer=customer), grant_id, now)
        if grant.pin_id is None:
            raise TicketGrant("Close the ticket to end this supporter's access.")
        pin = _locked_pin_of_grant(grant.pin_id)
        _end_pin(pin, EndReason.REVOKED, now=now, by=_customer_actor(customer))


def _locked_live_pin(customer: Customer) -> SupportPin | None:
    # Locking the customer row serialises issue and rotation for one customer, so two tabs
    # opening "Support" at once get the same PIN instead of tripping the one-live-PIN index.
    # no_key: a redemption's grant INSERT takes a KEY SHARE lock on this row for its foreign
    # key, which FOR UPDATE would block; FOR NO KEY UPDATE still excludes the other tab.
    _lock_customer(customer.pk)
    # Then the PIN, as every path does (customer before PIN, "Lock order").
    return (
        SupportPin.objects.select_for_update(no_key=True)
        .filter(customer=customer, ended_at__isnull=True)
        .first()
    )


def _lock_customer(customer_number: str) -> None:
    Customer.objects.select_for_update(no_key=True).filter(pk=customer_number).first()


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
    with transaction.atomic():
        # The supporter's row is the lock for their guessing counter: parallel wrong guesses
        # queue here, each sees the ones before it, and none escapes the limit. no_key: it
        # only serialises, and must not block the KEY SHARE locks of rows that refer to it.
        supporter = Staff.objects.select_for_update(no_key=True).get(pk=supporter.pk)
        _refuse_if_blocked(supporter)
        # The customer before the PIN, as the customer's own requests take them; a customer
        # number that does not exist locks nothing and costs the same query.
        _lock_customer(customer_number)
        live = (
            # of=("self",): PostgreSQL cannot lock the nullable side of the grant join.
            SupportPin.objects.select_for_update(of=("self",), no_key=True)
            .select_related("grant")
            .filter(customer_id=customer_number, ended_at__isnull=True)
            .first()
        )
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
    if supporter.blocked_at is not None:
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
    queue_email(
        to=customer_email(pin.customer_id),
        subject="Ein Supporter hat Ihre Support-PIN eingelöst / A supporter redeemed your PIN",
        body=(
            f"{supporter.display_name} hat um {now:%H:%M} UTC Ihre Support-PIN eingelöst und "
            f"kann bis {pin.expires_at:%H:%M} UTC auf Ihre Produkte zugreifen. Sie können den "
            "Zugriff jederzeit unter „Support“ widerrufen.\n\n"
            f"{supporter.display_name} redeemed your Support-PIN at {now:%H:%M} UTC and may "
            f"access your products until {pin.expires_at:%H:%M} UTC. You can revoke the access "
            "at any time under “Support”."
        ),
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
            _end_pin(pin, EndReason.TOO_MANY_FAILURES, now=now, by=None)
            queue_email(
                to=customer_email(pin.customer_id),
                subject="Ihre Support-PIN wurde gesperrt / Your Support-PIN was locked",
                body=(
                    "Ihre Support-PIN wurde nach zu vielen falschen Eingaben deaktiviert. "
                    "Unter „Support“ erhalten Sie eine neue.\n\n"
                    "Your Support-PIN was deactivated after too many wrong attempts. "
                    "Open “Support” to get a new one."
                ),
                now=now,
            )
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
        _end_pin(pin, EndReason.DEACTIVATED, now=now, by=_staff_actor(supporter))


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
    """End every PIN grant a supporter holds (their account was disabled)."""
    with transaction.atomic():
        # The PINs, then (in _end_pin) their grants: the order of every PIN path.
        pins = SupportPin.objects.select_for_update(no_key=True).filter(
            redeemed_by=supporter, ended_at__isnull=True, expires_at__gt=now
        )
        for pin in pins:
            _end_pin(pin, EndReason.SUPPORTER_DISABLED, now=now, by=None)


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
            _end_pin(pin, EndReason.EXPIRED, now=pin.expires_at, by=None)
    return len(due)


# --- ticket grants -------------------------------------------------------------------------
# A claim's grant is opened and ended here, in the transaction of the ticket change, so every
# grant lives in this app; whether a ticket grant is alive is decided by access.live_grants.


def claim_ticket(*, supporter: Staff, ticket_id: int, now: datetime) -> Ticket:
    """Take over a ticket nobody holds and open its grant to the customer's products."""
    with transaction.atomic():
        assignment = ticket_actions.assign_ticket(supporter=supporter, ticket_id=ticket_id, now=now)
        ticket = assignment.ticket
        if assignment.changed:
            # A grant left by a holder whose release bypassed this app ends here: a ticket
            # has one live grant, its holder's.
            _end_ticket_grant(ticket, now)
            grant = Grant.objects.create(
                basis=Basis.TICKET,
                supporter=supporter,
                customer_id=ticket.customer_id,
                ticket=ticket,
                started_at=now,
            )
            actor = _staff_actor(supporter)
            record(
                event=Event.TICKET_CLAIMED,
                at=now,
                actor_kind=actor.kind,
                actor=actor.name,
                customer=ticket.customer_id,
                basis=Basis.TICKET,
                ticket_id=ticket.pk,
                grant_id=grant.pk,
            )
    return ticket


def release_ticket(*, staff: Staff, ticket_id: int, now: datetime) -> Ticket:
    """Give a ticket back to the queue (its assignee, or any admin) and end its grant."""
    with transaction.atomic():
        ticket = ticket_actions.release_ticket(staff=staff, ticket_id=ticket_id, now=now)
        _end_ticket_grant(ticket, now)
    return ticket


def _end_ticket_grant(ticket: Ticket, now: datetime) -> None:
    Grant.objects.filter(ticket=ticket, ended_at__isnull=True).update(
        ended_at=now, end_reason=EndReason.RELEASED
    )


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


def _end_pin(pin: SupportPin, reason: EndReason, *, now: datetime, by: _Actor | None) -> None:
    """Deactivate `pin` and end the grant it opened, at once and in one transaction."""
    SupportPin.objects.filter(pk=pin.pk).update(ended_at=now, end_reason=reason)
    grant = Grant.objects.filter(pin=pin, ended_at__isnull=True).first()
    if grant is not None:
        Grant.objects.filter(pk=grant.pk).update(ended_at=now, end_reason=reason)
    actor = by or _Actor(ActorKind.SYSTEM, "Support-PIN")
    record(
        event=Event.PIN_DEACTIVATED,
        at=now,
        actor_kind=actor.kind,
        actor=actor.name,
        customer=pin.customer_id,
        basis=Basis.PIN if grant else "",
        grant_id=grant.pk if grant else None,
        detail={"reason": reason},
    )
