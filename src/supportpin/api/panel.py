"""The provider's own panel: sign customers in with one-time links, show and rotate their PIN."""

from datetime import datetime

from django.http import HttpRequest
from django.urls import reverse
from ninja import Path, Router, Schema, Status
from pydantic import Field

from supportpin.access.actions import open_support_pin, rotate_pin
from supportpin.accounts.actions import Actor, create_sign_in_link
from supportpin.accounts.models import Customer
from supportpin.api import present
from supportpin.api.schemas import Identifier, PinOut
from supportpin.api.security import integration_only, principal_of
from supportpin.lib import clock
from supportpin.lib.problems import NotFound
from supportpin.lib.urls import public_url

router = Router(tags=["integration"], auth=integration_only)


class SignInLinkIn(Schema):
    next: str = Field(default="/portal/", max_length=500)


class SignInLinkOut(Schema):
    url: str
    expires_at: datetime


def _customer(number: str) -> Customer:
    customer = Customer.objects.numbered(number).first()
    if customer is None:
        raise NotFound("No customer with this number.")
    return customer


@router.post("/customers/{number}/sign-in-links", response={201: SignInLinkOut})
def create_customer_sign_in_link(
    request: HttpRequest, number: Path[Identifier], payload: SignInLinkIn
):
    """A one-time URL (60 s) that signs the customer into the portal and lands on `next`."""
    api_key = principal_of(request).api_key
    assert api_key is not None  # integration_only admits nobody else
    link = create_sign_in_link(
        customer=_customer(number),
        next=payload.next,
        by=Actor.integration(api_key),
        now=clock.now(),
    )
    path = reverse("web:sign-in-link", args=[link.token])
    return Status(201, {"url": public_url(request, path), "expires_at": link.expires_at})


@router.get("/customers/{number}/support-pin", response=PinOut)
def get_customer_support_pin(request: HttpRequest, number: Path[Identifier]):
    """The customer's current Support-PIN, as they see it; issues one when none is usable."""
    pin = open_support_pin(customer=_customer(number), now=clock.now())
    return present.support_pin(pin)


@router.post("/customers/{number}/support-pin/rotate", response=PinOut)
def rotate_customer_support_pin(request: HttpRequest, number: Path[Identifier]):
    """Replace the customer's PIN: the old one is deactivated and any access through it ends."""
    pin = rotate_pin(customer=_customer(number), now=clock.now())
    return present.support_pin(pin)
