"""Who is calling: resolve a bearer token or API key to a principal."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.sessions.models import Session

from supportpin.accounts.models import ApiKey, Customer, Staff, Token
from supportpin.accounts.password_links import CUSTOMER_PASSWORD_LINKS, STAFF_PASSWORD_LINKS
from supportpin.lib.hashing import token_digest


@dataclass(frozen=True)
class Principal:
    role: str  # "customer", "supporter", "admin" or "integration"
    customer: Customer | None = None
    staff: Staff | None = None
    token: Token | None = None
    api_key: ApiKey | None = None


def principal_for_bearer(bearer: str, *, now: datetime) -> Principal | None:
    """Return who holds `bearer` at `now`, or None for an unknown, expired or revoked one."""
    digest = token_digest(bearer)
    if bearer.startswith("spk_"):
        key = ApiKey.objects.filter(digest=digest, revoked_at__isnull=True).first()
        return Principal(role="integration", api_key=key) if key else None
    token = (
        Token.objects.select_related("customer", "staff")
        .filter(digest=digest, revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if token is None:
        return None
    if token.staff is not None:
        if not token.staff.is_active:
            return None
        # A token from the "API tokens" page lives no longer than the web session it came from.
        if (
            token.session_key
            and not Session.objects.filter(
                session_key=token.session_key, expire_date__gt=now
            ).exists()
        ):
            return None
        return Principal(role=token.staff.role, staff=token.staff, token=token)
    return Principal(role="customer", customer=token.customer, token=token)


def customer_for_password_link(number: str, token: str) -> Customer | None:
    """Return the customer a password reset link is good for at this moment, or None."""
    customer = Customer.objects.numbered(number).first()
    return customer if CUSTOMER_PASSWORD_LINKS.is_good(customer, token) else None


def staff_for_password_link(staff_id: int, token: str) -> Staff | None:
    """Return the active staff member a password link is good for at this moment, or None."""
    staff = Staff.objects.filter(pk=staff_id, is_active=True).first()
    return staff if STAFF_PASSWORD_LINKS.is_good(staff, token) else None
