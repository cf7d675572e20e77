from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from supportpin.access.access import live_grants
from supportpin.access.actions import open_support_pin, revoke_grant, rotate_pin
from supportpin.accounts.models import Customer
from supportpin.api import present
from supportpin.api.paging import PAGE_SIZE, next_link
from supportpin.api.schemas import (
    AccessLogEntryOut,
    EntryProofOut,
    GrantOut,
    PinOut,
    ProductOut,
    ProfileOut,
)
from supportpin.api.security import customer_of, customer_only
from supportpin.audit.access import access_entry_for_customer
from supportpin.audit.queries import access_log_page, proof_document
from supportpin.lib import clock
from supportpin.products.models import Product

router = Router(tags=["customer"], auth=customer_only)


@router.get("/me", response=ProfileOut)
def get_profile(request: HttpRequest):
    """My customer number and personal data."""
    customer = Customer.objects.select_related("personal_data").get(pk=customer_of(request).pk)
    return present.profile(customer)


@router.get("/me/products", response=list[ProductOut])
def list_my_products(request: HttpRequest):
    """My products."""
    products = Product.objects.filter(customer=customer_of(request)).order_by("-created_at", "id")
    return [present.product(p) for p in products]


@router.get("/me/support-pin", response=PinOut)
def get_support_pin(request: HttpRequest):
    """My current Support-PIN; issues a fresh one when none is usable."""
    pin = open_support_pin(customer=customer_of(request), now=clock.now())
    return present.support_pin(pin)


@router.post("/me/support-pin/rotate", response=PinOut)
def rotate_support_pin(request: HttpRequest):
    """Replace my PIN: the old one is deactivated and any access through it ends."""
    pin = rotate_pin(customer=customer_of(request), now=clock.now())
    return present.support_pin(pin)


@router.get("/me/grants", response=list[GrantOut])
def list_my_grants(request: HttpRequest):
    """Who may reach my products right now."""
    grants = (
        live_grants(clock.now())
        .filter(customer=customer_of(request))
        .select_related("supporter")
        .order_by("-started_at")
    )
    return [present.grant(g) for g in grants]


@router.delete("/me/grants/{grant_id}", response={204: None})
def delete_my_grant(request: HttpRequest, grant_id: int):
    """End a supporter's PIN access to my products."""
    revoke_grant(customer=customer_of(request), grant_id=grant_id, now=clock.now())
    return Status(204, None)


class PageQuery(Schema):
    cursor: int | None = Field(default=None, ge=1)


@router.get("/me/access-log", response=list[AccessLogEntryOut])
def get_access_log(request: HttpRequest, response: HttpResponse, page: Query[PageQuery]):
    """Every access to my account and products, newest first ("Wer hatte Zugriff?")."""
    entries, cursor = access_log_page(
        customer_number=customer_of(request).pk, before=page.cursor, size=PAGE_SIZE
    )
    next_link(request, response, cursor)
    return [present.access_log_entry(e) for e in entries]


@router.get("/me/access-log/{entry_id}/proof", response=EntryProofOut)
def get_entry_proof(request: HttpRequest, entry_id: int):
    """The inclusion proof of one of my entries in the newest signed checkpoint."""
    entry = access_entry_for_customer(customer_of(request).pk, entry_id)
    return proof_document(entry)
