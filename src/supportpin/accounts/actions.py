"""Sign-in, tokens, API keys, and the customer and staff records synced from the provider."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import pyotp
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.urls import Resolver404, resolve
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timezone import localtime

from supportpin.access.actions import end_grants_of
from supportpin.accounts.models import (
    ApiKey,
    Customer,
    Passkey,
    PersonalData,
    Role,
    SignInLink,
    Staff,
    Token,
)
from supportpin.accounts.password_links import CUSTOMER_PASSWORD_LINKS, STAFF_PASSWORD_LINKS
from supportpin.accounts.queries import Recipient
from supportpin.audit.actions import record
from supportpin.audit.models import ActorKind, Event
from supportpin.lib.hashing import new_token, token_digest
from supportpin.lib.problems import (
    CustomerPasswordsOff,
    Invalid,
    InvalidCredentials,
    NoEmailAddress,
    OtpRequired,
    OwnAccount,
    PasskeyRequired,
    StaffPasswordsOff,
    UsernameTaken,
)
from supportpin.notify.actions import queue_email, queue_email_from_template

# Checked against when the username is unknown, so a miss costs as much time as a hit.
_DUMMY_PASSWORD_HASH = make_password("supportpin-dummy-password")
OTP_VALID_STEPS = (-1, 0, 1)
SIGN_IN_LINK_SECONDS = 60


@dataclass(frozen=True)
class Actor:
    """Who changes a staff account, as the audit log names them."""

    kind: ActorKind
    name: str
    # The admin doing it, who may not disable their own account.
    staff: Staff | None = None

    @classmethod
    def admin(cls, staff: Staff) -> "Actor":
        return cls(ActorKind.ADMIN, staff.display_name, staff)

    @classmethod
    def integration(cls, key: ApiKey) -> "Actor":
        return cls(ActorKind.INTEGRATION, key.name)

    @classmethod
    def themselves(cls, staff: Staff) -> "Actor":
        return cls(ActorKind(staff.role), staff.display_name, staff)


SYSTEM = Actor(ActorKind.SYSTEM, "Support-PIN")


@dataclass(frozen=True)
class SignIn:
    token: str
    expires_at: datetime
    role: str


def sign_in(*, username: str, password: str, otp: str | None, now: datetime) -> SignIn:
    """Check credentials (and the TOTP code of staff) and return a new bearer token."""
    if Staff.objects.filter(username=username, is_active=True).exists():
        staff = authenticate_staff(username=username, password=password, otp=otp, now=now)
        hours = settings.SUPPORTPIN_STAFF_TOKEN_HOURS
        return issue_token(now=now, hours=hours, role=staff.role, staff=staff)
    customer = authenticate_customer(login=username, password=password)
    hours = settings.SUPPORTPIN_CUSTOMER_TOKEN_HOURS
    return issue_token(now=now, hours=hours, role="customer", customer=customer)


def authenticate_customer(*, login: str, password: str) -> Customer:
    """Return the customer with this number (or e-mail) and password; else InvalidCredentials.

    With customer passwords turned off, customers sign in through the panel's links only.
    """
    if not settings.SUPPORTPIN_CUSTOMER_PASSWORDS:
        raise CustomerPasswordsOff()
    customer = _customer_by_login(login)
    if customer is None or not customer.password:
        check_password(password, _DUMMY_PASSWORD_HASH)
        raise InvalidCredentials()
    if not check_password(password, customer.password):
        raise InvalidCredentials()
    return customer


def check_staff_password(*, username: str, password: str) -> Staff:
    """Return the active staff member with this password (first factor); else InvalidCredentials.

    With SUPPORTPIN_OIDC_ONLY staff passwords count for nothing: staff sign in through the
    identity provider.
    """
    if settings.SUPPORTPIN_OIDC_ONLY:
        raise StaffPasswordsOff()
    staff = Staff.objects.filter(username=username, is_active=True).first()
    if staff is None:
        check_password(password, _DUMMY_PASSWORD_HASH)
        raise InvalidCredentials()
    if not check_password(password, staff.password):
        raise InvalidCredentials()
    return staff


def authenticate_staff(*, username: str, password: str, otp: str | None, now: datetime) -> Staff:
    """Return the staff member if password and a fresh TOTP code match; else raise."""
    staff = check_staff_password(username=username, password=password)
    if settings.SUPPORTPIN_STAFF_2FA == "passkey":
        raise PasskeyRequired(
            "Staff sign in with a passkey in the web UI; scripts use tokens of its API-Token page."
        )
    if not otp:
        raise OtpRequired("Send the current code of your authenticator app as `otp`.")
    if not accept_otp(staff=staff, code=otp, now=now):
        raise InvalidCredentials()
    return staff


def _customer_by_login(username: str) -> Customer | None:
    customer = Customer.objects.numbered(username).first()
    if customer is not None or "@" not in username:
        return customer
    # An e-mail address shared by several customers names none of them.
    matches = list(Customer.objects.filter(personal_data__email__iexact=username)[:2])
    return matches[0] if len(matches) == 1 else None


def set_staff_active(*, staff: Staff, active: bool, now: datetime, by: Actor) -> None:
    """Disable (sessions, tokens and PIN grants end at once) or re-enable a staff account.

    Nobody disables their own account (and locks themselves out).
    """
    if by.staff == staff and not active:
        raise OwnAccount()
    with transaction.atomic():
        if not Staff.objects.filter(pk=staff.pk, is_active=not active).update(is_active=active):
            return
        if not active:
            _end_sessions(staff, now=now)
            end_grants_of(supporter=staff, now=now)
        event = Event.STAFF_ENABLED if active else Event.STAFF_DISABLED
        _record_staff_change(event, staff=staff, now=now, by=by)


def end_staff_sessions(*, staff: Staff, now: datetime, by: Actor) -> None:
    """End every token and web session of a staff member at once."""
    with transaction.atomic():
        _end_sessions(staff, now=now)
        _record_staff_change(Event.STAFF_SESSIONS_ENDED, staff=staff, now=now, by=by)


def reset_second_factor(*, staff: Staff, now: datetime, by: Actor) -> None:
    """Remove a staff member's passkeys and authenticator and end their sessions.

    At their next sign-in (password or identity provider) they set up an authenticator again,
    as at their first. Nobody resets their own second factor here (their passkeys page is theirs).
    """
    if by.staff == staff:
        raise OwnAccount()
    with transaction.atomic():
        Passkey.objects.filter(staff=staff).delete()
        # A new secret: codes of the old authenticator count for nothing from now on.
        Staff.objects.filter(pk=staff.pk).update(
            otp_secret=pyotp.random_base32(), otp_confirmed_at=None, otp_last_step=0
        )
        _end_sessions(staff, now=now)
        _record_staff_change(Event.STAFF_SECOND_FACTOR_RESET, staff=staff, now=now, by=by)


def reset_staff_password(
    *, staff: Staff, link: Callable[[Staff, str], str], now: datetime, by: Actor
) -> None:
    """Void a staff member's password, end their sessions and e-mail them a link to choose one.

    `link(staff, token)` is the address of the page that takes the token. The admin never learns
    the new password; the old one stops working at once.
    """
    if by.staff == staff:
        raise OwnAccount()
    if not staff.email:
        raise NoEmailAddress("Set the staff member's e-mail address first.")
    with transaction.atomic():
        staff = Staff.objects.select_for_update(no_key=True).get(pk=staff.pk)
        staff.password = make_password(None)
        staff.save(update_fields=["password"])
        _end_sessions(staff, now=now)
        queue_email_from_template(
            to=[staff.email],
            template="staff_password_reset",
            context={
                "admin": by.name,
                "username": staff.username,
                "link": link(staff, STAFF_PASSWORD_LINKS.token_for(staff)),
                "minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
            },
            language=settings.LANGUAGE_CODE,
            now=now,
        )
        _record_staff_change(Event.STAFF_PASSWORD_RESET, staff=staff, now=now, by=by)


def set_staff_password(*, staff_id: int, token: str, password: str, now: datetime) -> Staff | None:
    """Set the password a staff member chose through their link; None for a spent or bad link."""
    with transaction.atomic():
        # Locked, so of two uses of one link only the first still finds it good.
        staff = (
            Staff.objects.select_for_update(no_key=True).filter(pk=staff_id, is_active=True).first()
        )
        if staff is None or not STAFF_PASSWORD_LINKS.is_good(staff, token):
            return None
        staff.password = make_password(password)
        staff.save(update_fields=["password"])
        _end_sessions(staff, now=now)
        _record_staff_change(
            Event.STAFF_PASSWORD_CHANGED, staff=staff, now=now, by=Actor.themselves(staff)
        )
    return staff


def request_password_reset(
    *, email: str, link: Callable[[Customer, str], str], now: datetime
) -> None:
    """E-mail each customer with this address a link to choose a new password.

    An unknown address gets nothing, and the caller answers the same either way, so the answer
    tells nobody which addresses are customers'. `link(customer, token)` is the address of the
    page that takes the token.
    """
    if not settings.SUPPORTPIN_CUSTOMER_PASSWORDS:
        raise CustomerPasswordsOff()
    customers = list(
        Customer.objects.filter(personal_data__email__iexact=email.strip()).select_related(
            "personal_data"
        )
    )
    with transaction.atomic():
        for customer in customers:
            recipient = Recipient(to=[customer.personal_data.email], language=customer.language)
            recipient.queue("customer_password_reset", _reset_mail(customer, link), now=now)
    if not customers:
        # An unknown address costs the token a known one costs, all but the queued row, so the
        # time of the answer tells as little as its words (as _DUMMY_PASSWORD_HASH).
        _reset_mail(Customer(number="unknown"), link)


def _reset_mail(customer: Customer, link: Callable[[Customer, str], str]) -> dict:
    return {
        "number": customer.number,
        "link": link(customer, CUSTOMER_PASSWORD_LINKS.token_for(customer)),
        "minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
    }


def reset_customer_password(
    *, number: str, token: str, password: str, now: datetime
) -> Customer | None:
    """Set the password a customer chose through their reset link; None for a spent or bad link.

    Every session and token of the customer ends, and the change is in their access log.
    """
    if not settings.SUPPORTPIN_CUSTOMER_PASSWORDS:
        raise CustomerPasswordsOff()
    with transaction.atomic():
        # Locked, so of two uses of one link only the first still finds it good.
        customer = Customer.objects.select_for_update(no_key=True).numbered(number).first()
        if customer is None or not CUSTOMER_PASSWORD_LINKS.is_good(customer, token):
            return None
        customer.password = make_password(password)
        customer.save(update_fields=["password"])
        _end_sessions(customer, now=now)
        record(
            event=Event.CUSTOMER_PASSWORD_RESET,
            at=now,
            actor_kind=ActorKind.CUSTOMER,
            actor=customer.number,
            customer=customer.number,
        )
    return customer


def _end_sessions(who: Staff | Customer, *, now: datetime) -> None:
    """Revoke the tokens of `who` and raise its epoch, which ends its web sessions."""
    tokens = Token.objects.filter(revoked_at__isnull=True)
    if isinstance(who, Staff):
        Staff.objects.filter(pk=who.pk).update(sessions_epoch=F("sessions_epoch") + 1)
        tokens.filter(staff=who).update(revoked_at=now)
    else:
        Customer.objects.filter(pk=who.pk).update(sessions_epoch=F("sessions_epoch") + 1)
        tokens.filter(customer=who).update(revoked_at=now)


def _record_staff_change(
    event: Event, *, staff: Staff, now: datetime, by: Actor, **detail: str
) -> None:
    record(
        event=event,
        at=now,
        actor_kind=by.kind,
        actor=by.name,
        detail={"staff": staff.username, **detail},
    )


class SignInMethod(StrEnum):
    """How a staff member proved who they are, as the audit log names it."""

    PASSWORD_TOTP = "password+totp"  # noqa: S105 (a method name, no password)
    OIDC = "oidc"
    OIDC_TOTP = "oidc+totp"
    PASSWORD_PASSKEY = "password+passkey"  # noqa: S105 (a method name, no password)
    OIDC_PASSKEY = "oidc+passkey"


def record_staff_sign_in(*, staff: Staff, method: SignInMethod, now: datetime) -> None:
    """Write a staff member's web sign-in to the audit log."""
    with transaction.atomic():
        record(
            event=Event.STAFF_SIGNED_IN,
            at=now,
            actor_kind=ActorKind(staff.role),
            actor=staff.display_name,
            detail={"staff": staff.username, "method": str(method)},
        )


def add_passkey(
    *,
    staff: Staff,
    name: str,
    credential_id: bytes,
    public_key: bytes,
    sign_count: int,
    now: datetime,
) -> Passkey:
    """Keep a verified new passkey of `staff`, audit it and tell the staff member by e-mail.

    The e-mail lets them notice a passkey that someone else added with their session.
    """
    with transaction.atomic():
        passkey = Passkey.objects.create(
            staff=staff,
            name=name,
            credential_id=credential_id,
            public_key=public_key,
            sign_count=sign_count,
            created_at=now,
        )
        _record_passkey(Event.PASSKEY_ADDED, passkey, now=now)
        # In the zone the web UI shows (TIME_ZONE), like every e-mail.
        at = localtime(now)
        queue_email(
            to=[staff.email] if staff.email else [],
            subject=f"Support-PIN: neuer Passkey / new passkey „{name}“",
            body=(
                f"Für Ihr Support-PIN-Konto {staff.username} wurde am {at:%d.%m.%Y %H:%M %Z} "
                f"der Passkey „{name}“ hinzugefügt. Waren Sie das nicht, melden Sie es sofort "
                "Ihrem Administrator.\n\n"
                f"The passkey “{name}” was added to your Support-PIN account {staff.username} "
                f"on {at:%Y-%m-%d %H:%M %Z}. If this was not you, tell your administrator now."
            ),
            now=now,
        )
    return passkey


def remove_passkey(*, passkey: Passkey, now: datetime) -> None:
    """Remove a staff member's passkey: it no longer signs anyone in."""
    with transaction.atomic():
        if Passkey.objects.filter(pk=passkey.pk).delete()[0]:
            _record_passkey(Event.PASSKEY_REMOVED, passkey, now=now)


def _record_passkey(event: Event, passkey: Passkey, *, now: datetime) -> None:
    staff = passkey.staff
    record(
        event=event,
        at=now,
        actor_kind=ActorKind(staff.role),
        actor=staff.display_name,
        detail={"staff": staff.username, "passkey": passkey.name},
    )


def accept_passkey_use(*, passkey: Passkey, sign_count: int, now: datetime) -> bool:
    """Note a verified use of a passkey; False when another use with this counter came first."""
    # The conditional update settles a race between two sign-ins with one assertion.
    used = Passkey.objects.filter(pk=passkey.pk, sign_count=passkey.sign_count)
    return bool(used.update(sign_count=sign_count, last_used_at=now))


def accept_otp(*, staff: Staff, code: str, now: datetime) -> bool:
    """Accept a current TOTP code of `staff` once; a code already used is refused.

    The first accepted code also completes enrolment: the authenticator is proven to work.
    """
    totp = pyotp.TOTP(staff.otp_secret)
    for offset in OTP_VALID_STEPS:
        moment = now + timedelta(seconds=offset * totp.interval)
        if totp.verify(code, for_time=moment):
            step = totp.timecode(moment)
            # The conditional update settles a race between two sign-ins with one code.
            return bool(
                Staff.objects.filter(pk=staff.pk, otp_last_step__lt=step).update(
                    otp_last_step=step, otp_confirmed_at=Coalesce("otp_confirmed_at", Value(now))
                )
            )
    return False


def issue_token(
    *, now: datetime, hours: int, role: str, until: datetime | None = None, **principal
) -> SignIn:
    """Create a bearer token that lives `hours`, and ends at `until` if that comes first."""
    token = new_token("spt")
    expires_at = min(now + timedelta(hours=hours), until or now + timedelta(hours=hours))
    Token.objects.create(
        digest=token_digest(token), created_at=now, expires_at=expires_at, **principal
    )
    return SignIn(token=token, expires_at=expires_at, role=role)


def create_session_token(
    *, staff: Staff, session_key: str, session_ends_at: datetime, now: datetime
) -> SignIn:
    """Issue a token for scripts that ends with the staff member's web session at the latest."""
    with transaction.atomic():
        issued = issue_token(
            now=now,
            hours=settings.SUPPORTPIN_STAFF_TOKEN_HOURS,
            role=staff.role,
            until=session_ends_at,
            staff=staff,
            session_key=session_key,
        )
        record(
            event=Event.STAFF_API_TOKEN_CREATED,
            at=now,
            actor_kind=ActorKind(staff.role),
            actor=staff.display_name,
            detail={"staff": staff.username, "expires_at": issued.expires_at.isoformat()},
        )
    return issued


def sign_out(*, token: Token, now: datetime) -> None:
    """Make the token dead at once."""
    Token.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)


def create_api_key(*, name: str, now: datetime) -> str:
    """Create an integration key and return it; only its digest is kept."""
    key = new_token("spk")
    ApiKey.objects.create(name=name, digest=token_digest(key), created_at=now)
    return key


def revoke_api_key(*, key: ApiKey, now: datetime) -> None:
    """Make an integration key dead at once."""
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=now)


@dataclass(frozen=True)
class Address:
    street: str
    zip_code: str
    city: str
    country: str


@dataclass(frozen=True)
class CustomerSync:
    number: str  # as first stored: a later spelling in another case does not change it
    created: bool


def sync_customer(
    *,
    number: str,
    name: str,
    email: str,
    password: str | None,
    phone: str,
    address: Address | None,
    now: datetime,
    language: str | None = None,
) -> CustomerSync:
    """Create or update a customer from the provider's billing system.

    A new password ends the customer's tokens and web sessions; the same password again (billing
    systems resend everything) changes nothing.
    """
    with transaction.atomic():
        customer = Customer.objects.select_for_update().numbered(number).first()
        created = customer is None
        if customer is None:
            try:
                with transaction.atomic():
                    customer = Customer.objects.create(
                        number=number, created_at=now, updated_at=now
                    )
            except IntegrityError:
                # A parallel PUT created it since we looked, perhaps in another spelling.
                customer = Customer.objects.select_for_update().numbered(number).get()
                created = False
        customer.updated_at = now
        if language is not None:
            customer.language = language
        new_password = password is not None and not check_password(password, customer.password)
        if new_password:
            customer.password = make_password(password)
        customer.save(update_fields=["updated_at", "password", "language"])
        if new_password and not created:
            _end_sessions(customer, now=now)
        personal = {"name": name, "email": email, "phone": phone}
        if address is not None:
            personal |= {
                "street": address.street,
                "zip_code": address.zip_code,
                "city": address.city,
                "country": address.country,
            }
        PersonalData.objects.update_or_create(customer=customer, defaults=personal)
    return CustomerSync(number=customer.number, created=created)


@dataclass(frozen=True)
class StaffSync:
    created: bool
    otp_secret: str | None


def sync_staff(
    *,
    username: str,
    display_name: str,
    password: str,
    role: Role,
    active: bool,
    email: str,
    now: datetime,
    by: Actor,
) -> StaffSync:
    """Create or update a staff account; a new one gets a TOTP secret, returned only once.

    A new password ends the account's tokens and web sessions; the same password again (billing
    systems resend everything) changes nothing.
    """
    with transaction.atomic():
        staff = Staff.objects.select_for_update().filter(username=username).first()
        if staff is None:
            staff = Staff.objects.create(
                username=username,
                display_name=display_name,
                password=make_password(password),
                role=role,
                is_active=active,
                email=email,
                otp_secret=pyotp.random_base32(),
                created_at=now,
            )
            _record_staff_change(Event.STAFF_CREATED, staff=staff, now=now, by=by, role=role)
            return StaffSync(created=True, otp_secret=staff.otp_secret)
        staff.display_name = display_name
        staff.role = role
        staff.email = email
        new_password = not check_password(password, staff.password)
        if new_password:
            staff.password = make_password(password)
        staff.save(update_fields=["display_name", "role", "email", "password"])
        if staff.is_active != active:
            set_staff_active(staff=staff, active=active, now=now, by=by)
        if new_password:
            _end_sessions(staff, now=now)
            _record_staff_change(Event.STAFF_PASSWORD_CHANGED, staff=staff, now=now, by=by)
    return StaffSync(created=False, otp_secret=None)


def create_staff(
    *,
    username: str,
    display_name: str,
    password: str,
    role: Role,
    email: str,
    now: datetime,
    by: Actor,
) -> StaffSync:
    """Add a new staff account (an admin's form); an existing username is refused, not updated."""
    with transaction.atomic():
        if Staff.objects.select_for_update().filter(username=username).exists():
            raise UsernameTaken()
        return sync_staff(
            username=username,
            display_name=display_name,
            password=password,
            role=role,
            active=True,
            email=email,
            now=now,
            by=by,
        )


@dataclass(frozen=True)
class NewSignInLink:
    token: str
    expires_at: datetime


def create_sign_in_link(
    *, customer: Customer, next: str, by: Actor, now: datetime
) -> NewSignInLink:
    """Create a one-time link that signs `customer` in and lands on `next`, a path of this app."""
    if not _is_path_of_this_app(next):
        raise Invalid(
            "`next` must be a path of this app, such as /portal/support/.",
            errors=[{"field": "next", "message": "a path of this app"}],
        )
    token = new_token("spl")
    expires_at = now + timedelta(seconds=SIGN_IN_LINK_SECONDS)
    with transaction.atomic():
        SignInLink.objects.create(
            digest=token_digest(token),
            customer=customer,
            next=next,
            created_at=now,
            expires_at=expires_at,
        )
        record(
            event=Event.SIGN_IN_LINK_CREATED,
            at=now,
            actor_kind=by.kind,
            actor=by.name,
            customer=customer.number,
            detail={"expires_at": expires_at.isoformat()},
        )
    return NewSignInLink(token=token, expires_at=expires_at)


def _is_path_of_this_app(target: str) -> bool:
    # A host-less path only: "//evil.example" and "/\\evil.example" are other hosts to a browser.
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(target, None):
        return False
    try:
        resolve(target.split("?", 1)[0])
    except Resolver404:
        return False
    return True


def use_sign_in_link(*, token: str, now: datetime) -> SignInLink | None:
    """Spend a sign-in link and return it; None for a used, expired or unknown one."""
    with transaction.atomic():
        # The conditional update settles a race between two openings of one link: one wins.
        used = SignInLink.objects.filter(
            digest=token_digest(token), used_at__isnull=True, expires_at__gt=now
        ).update(used_at=now)
        if not used:
            return None
        link = SignInLink.objects.select_related("customer").get(digest=token_digest(token))
        record(
            event=Event.SIGNED_IN_WITH_LINK,
            at=now,
            actor_kind=ActorKind.CUSTOMER,
            actor=link.customer.number,
            customer=link.customer.number,
        )
    return link
