from django.http import HttpRequest
from ninja import Path, Query, Router, Schema, Status

from supportpin.access.actions import unlock_supporter
from supportpin.accounts.actions import (
    Actor,
    Address,
    end_staff_sessions,
    sync_customer,
    sync_staff,
)
from supportpin.accounts.models import Role, Staff
from supportpin.api import present
from supportpin.api.schemas import (
    CustomerIn,
    DecisionOut,
    Identifier,
    ProductIn,
    ProductOut,
    StaffIn,
    StaffOut,
)
from supportpin.api.security import integration_only, integration_or_admin, principal_of
from supportpin.lib import clock
from supportpin.lib.problems import NotFound
from supportpin.products.actions import decide, sync_product
from supportpin.products.models import Product

router = Router(tags=["integration"])


class CustomerOut(Schema):
    number: str


@router.put(
    "/customers/{number}", response={200: CustomerOut, 201: CustomerOut}, auth=integration_only
)
def put_customer(request: HttpRequest, number: Path[Identifier], payload: CustomerIn):
    """Create or update a customer from the billing system."""
    address = payload.address
    synced = sync_customer(
        number=number,
        name=payload.name,
        email=payload.email,
        password=payload.password,
        phone=payload.phone,
        language=payload.language,
        address=Address(address.street, address.zip, address.city, address.country)
        if address
        else None,
        now=clock.now(),
    )
    return Status(201 if synced.created else 200, {"number": synced.number})


@router.put(
    "/products/{product_id}", response={200: ProductOut, 201: ProductOut}, auth=integration_only
)
def put_product(request: HttpRequest, product_id: Path[Identifier], payload: ProductIn):
    """Create or update a product from the billing system."""
    created = sync_product(
        product_id=product_id,
        customer_number=payload.customer,
        type=payload.type,
        name=payload.name,
        status=payload.status,
        details=payload.details,
        now=clock.now(),
    )
    return Status(201 if created else 200, present.product(Product.objects.get(pk=product_id)))


def _actor(request: HttpRequest) -> Actor:
    """The admin or the integration key behind a staff endpoint's call."""
    principal = principal_of(request)
    if principal.staff is not None:
        return Actor.admin(principal.staff)
    assert principal.api_key is not None  # integration_or_admin admits nobody else
    return Actor.integration(principal.api_key)


def _staff(username: str) -> Staff:
    staff = Staff.objects.filter(username=username).first()
    if staff is None:
        raise NotFound("No staff member with this username.")
    return staff


@router.put("/staff/{username}", response={200: StaffOut, 201: StaffOut}, auth=integration_or_admin)
def put_staff(request: HttpRequest, username: Path[Identifier], payload: StaffIn):
    """Create or update a supporter or admin; the TOTP secret is returned only on create.

    A new password ends the staff member's tokens and web sessions; the same one changes nothing.
    """
    result = sync_staff(
        username=username,
        display_name=payload.display_name,
        password=payload.password,
        role=Role(payload.role),
        active=payload.active,
        email=payload.email,
        now=clock.now(),
        by=_actor(request),
    )
    staff = Staff.objects.get(username=username)
    return Status(201 if result.created else 200, present.staff(staff, result.otp_secret))


@router.post("/staff/{username}/unlock", response=StaffOut, auth=integration_or_admin)
def unlock_staff(request: HttpRequest, username: Path[Identifier]):
    """Lift a supporter's block after too many wrong PINs."""
    staff = _staff(username)
    actor = _actor(request)
    unlock_supporter(staff=staff, actor_kind=actor.kind, actor=actor.name, now=clock.now())
    return present.staff(staff)


@router.delete("/staff/{username}/sessions", response={204: None}, auth=integration_or_admin)
def delete_staff_sessions(request: HttpRequest, username: Path[Identifier]):
    """End every token and web session of a staff member at once."""
    end_staff_sessions(staff=_staff(username), now=clock.now(), by=_actor(request))
    return Status(204, None)


class DecisionQuery(Schema):
    supporter: Identifier
    product: Identifier


@router.get("/decisions", response=DecisionOut, auth=integration_only)
def get_decision(request: HttpRequest, query: Query[DecisionQuery]):
    """May this supporter open this product now? For panels that gate their own pages."""
    grant = decide(supporter=query.supporter, product=query.product, now=clock.now())
    if grant is None:
        return {"allowed": False, "basis": None, "grant_id": None, "until": None}
    return {"allowed": True, "basis": grant.basis, "grant_id": grant.pk, "until": grant.ends_at}
