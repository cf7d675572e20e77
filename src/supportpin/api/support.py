from django.http import HttpRequest
from ninja import Path, Router, Status

from supportpin.access.access import live_grants
from supportpin.access.actions import end_grant, redeem_pin
from supportpin.api import present
from supportpin.api.schemas import (
    Accepted,
    ActionIn,
    GrantOut,
    Identifier,
    ProductOut,
    RedemptionIn,
)
from supportpin.api.security import staff_of, staff_only
from supportpin.lib import clock
from supportpin.products.actions import list_customer_products, read_product, run_product_action

router = Router(tags=["supporter"], auth=staff_only)


@router.post("/support/pin-redemptions", response={200: GrantOut, 201: GrantOut})
def redeem(request: HttpRequest, payload: RedemptionIn):
    """Redeem a customer's Support-PIN; 200 with the same grant when I redeem it again."""
    redemption = redeem_pin(
        supporter=staff_of(request),
        customer_number=payload.customer,
        pin=payload.pin,
        now=clock.now(),
    )
    return Status(201 if redemption.created else 200, present.grant(redemption.grant))


@router.get("/support/grants", response=list[GrantOut])
def list_grants(request: HttpRequest):
    """My active grants."""
    grants = (
        live_grants(clock.now())
        .filter(supporter=staff_of(request))
        .select_related("supporter")
        .order_by("-started_at")
    )
    return [present.grant(g) for g in grants]


@router.delete("/support/grants/{grant_id}", response={204: None})
def delete_grant(request: HttpRequest, grant_id: int):
    """Deactivate the PIN behind my grant ("PIN deaktivieren"): my access ends at once."""
    end_grant(supporter=staff_of(request), grant_id=grant_id, now=clock.now())
    return Status(204, None)


@router.get("/support/customers/{number}/products", response=list[ProductOut])
def list_products_of_customer(request: HttpRequest, number: Path[Identifier]):
    """The products of a customer whose grant I hold."""
    products = list_customer_products(
        supporter=staff_of(request), customer_number=number, now=clock.now()
    )
    return [present.product(p) for p in products]


@router.get("/support/products/{product_id}", response=ProductOut)
def get_product(request: HttpRequest, product_id: Path[Identifier]):
    """One product I may access (written to the customer's access log)."""
    product = read_product(supporter=staff_of(request), product_id=product_id, now=clock.now())
    return present.product(product)


@router.post("/support/products/{product_id}/actions", response={202: Accepted})
def post_product_action(request: HttpRequest, product_id: Path[Identifier], payload: ActionIn):
    """Ask the provider's backend to run an action (restart, stop, …) on a product I may access."""
    run_product_action(
        supporter=staff_of(request), product_id=product_id, action=payload.action, now=clock.now()
    )
    return Status(202, {"status": "accepted"})
