"""Bearer authentication with a role check: wrong token 401, wrong role 403."""

from django.http import HttpRequest
from ninja.security import HttpBearer

from supportpin.accounts.access import Principal, principal_for_bearer
from supportpin.accounts.models import Customer, Staff
from supportpin.lib import clock
from supportpin.lib.problems import Forbidden


class Bearer(HttpBearer):
    def __init__(self, *roles: str):
        super().__init__()
        self.roles = set(roles)

    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        principal = principal_for_bearer(token, now=clock.now())
        if principal is not None and principal.role not in self.roles:
            raise Forbidden(f"This endpoint is for: {', '.join(sorted(self.roles))}.")
        return principal


any_signed_in = Bearer("customer", "supporter", "admin")
customer_only = Bearer("customer")
staff_only = Bearer("supporter", "admin")
integration_only = Bearer("integration")
integration_or_admin = Bearer("integration", "admin")


def principal_of(request: HttpRequest) -> Principal:
    """The principal the bearer check put on the request."""
    return request.auth  # type: ignore[attr-defined]


def staff_of(request: HttpRequest) -> Staff:
    """The signed-in supporter or admin (the endpoint's bearer check allows no one else)."""
    staff = principal_of(request).staff
    assert staff is not None
    return staff


def customer_of(request: HttpRequest) -> Customer:
    """The signed-in customer (the endpoint's bearer check allows no one else)."""
    customer = principal_of(request).customer
    assert customer is not None
    return customer
