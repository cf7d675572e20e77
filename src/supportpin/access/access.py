"""The one decision function, and the permission-checked reads built on it."""

from datetime import datetime

from supportpin.access.models import Basis, Grant
from supportpin.accounts.models import Staff
from supportpin.lib.problems import NotFound
from supportpin.products.models import Product


def live_grants(supporter: Staff, customer_number: str, at: datetime):
    """Return the grants through which `supporter` reaches the customer at `at`."""
    return Grant.objects.filter(
        supporter=supporter,
        customer_id=customer_number,
        basis=Basis.PIN,
        ended_at__isnull=True,
        ends_at__gt=at,
    ).order_by("started_at")


def may_access(supporter: Staff, product: Product, at: datetime) -> Grant | None:
    """Return the grant that lets `supporter` reach `product` at `at`, or None."""
    if not supporter.is_active:
        return None
    return live_grants(supporter, product.customer_id, at).first()


def access_product_for_supporter(
    supporter: Staff, product_id: str, *, now: datetime
) -> tuple[Product, Grant]:
    """Return the product and the grant that reaches it; NotFound for missing and not-yours."""
    product = Product.objects.filter(pk=product_id).first()
    grant = may_access(supporter, product, now) if product is not None else None
    if grant is None:
        raise NotFound("No product with this id that you may access.")
    return product, grant


def access_customer_for_supporter(
    supporter: Staff, customer_number: str, *, now: datetime
) -> tuple[list[Product], Grant]:
    """Return the customer's products the supporter reaches and the grant; else NotFound."""
    grant = live_grants(supporter, customer_number, now).first() if supporter.is_active else None
    if grant is None:
        raise NotFound("No customer with this number that you may access.")
    products = list(Product.objects.filter(customer_id=customer_number).order_by("id"))
    return products, grant
