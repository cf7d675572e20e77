"""Product sync from the provider, and every supporter read of or action on a product."""

from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import CharField, DateTimeField, Exists, OuterRef

from supportpin.access.access import (
    access_customer_for_supporter,
    access_product_for_supporter,
    decision_query,
    may_access,
)
from supportpin.access.metrics import DECISIONS
from supportpin.access.models import Grant
from supportpin.accounts.models import Customer, Staff
from supportpin.audit.actions import record
from supportpin.audit.models import ActorKind, Event
from supportpin.lib.prepared import Param
from supportpin.lib.problems import Invalid, NotFound
from supportpin.notify.actions import queue_webhook
from supportpin.products.models import Product, RepeatedCheck
from supportpin.products.queries import ActionDelivery, recent_actions


def sync_product(
    *,
    product_id: str,
    customer_number: str,
    type: str,
    name: str,
    status: str,
    details: dict,
    now: datetime,
) -> bool:
    """Create or update a product from the provider's billing system; True when created."""
    stored_number = Customer.objects.numbered(customer_number).values_list("pk", flat=True).first()
    if stored_number is None:
        raise Invalid(
            "Unknown customer.", errors=[{"field": "customer", "message": "unknown customer"}]
        )
    fields = {
        "customer_id": stored_number,
        "type": type,
        "name": name,
        "status": status,
        "details": details,
        "updated_at": now,
    }
    _, created = Product.objects.update_or_create(
        pk=product_id, defaults=fields, create_defaults=fields | {"created_at": now}
    )
    return created


def _audit_access(event: Event, supporter: Staff, grant: Grant, now: datetime, **fields) -> None:
    record(
        event=event,
        at=now,
        actor_kind=ActorKind(supporter.role),
        actor=supporter.display_name,
        customer=grant.customer_id,
        basis=grant.basis,
        grant_id=grant.pk,
        ticket_id=grant.ticket_id,
        **fields,
    )


def read_product(*, supporter: Staff, product_id: str, now: datetime) -> Product:
    """Return a product the supporter may access, writing the read to the audit log."""
    with transaction.atomic():
        product, grant = access_product_for_supporter(supporter, product_id, now=now)
        _audit_access(Event.PRODUCT_READ, supporter, grant, now, product=product.pk)
    return product


def list_customer_products(
    *, supporter: Staff, customer_number: str, now: datetime
) -> list[Product]:
    """Return the customer's products the supporter may access, writing the read to the log."""
    with transaction.atomic():
        products, grant = access_customer_for_supporter(supporter, customer_number, now=now)
        _audit_access(
            Event.PRODUCTS_LISTED, supporter, grant, now, detail={"products": len(products)}
        )
    return products


def offered_actions() -> list[str]:
    """The actions a supporter is offered: none without a receiver, where they would wait in
    the outbox for ever. (The API still takes one and keeps it queued until a URL is set.)"""
    return settings.SUPPORTPIN_PRODUCT_ACTIONS if settings.SUPPORTPIN_ACTION_WEBHOOK_URL else []


def run_product_action(*, supporter: Staff, product_id: str, action: str, now: datetime) -> None:
    """Authorise a product action, log it and hand it to the provider's backend as a webhook."""
    if action not in settings.SUPPORTPIN_PRODUCT_ACTIONS:
        allowed = ", ".join(settings.SUPPORTPIN_PRODUCT_ACTIONS)
        raise Invalid(
            f"Unknown action; one of: {allowed}.",
            errors=[{"field": "action", "message": f"one of: {allowed}"}],
        )
    with transaction.atomic():
        product, grant = access_product_for_supporter(supporter, product_id, now=now)
        _audit_access(
            Event.PRODUCT_ACTION,
            supporter,
            grant,
            now,
            product=product.pk,
            detail={"action": action},
        )
        queue_webhook(
            payload={
                "event": "product_action",
                "action": action,
                "product": product.pk,
                "customer": product.customer_id,
                "supporter": supporter.username,
                "basis": grant.basis,
                "grant_id": grant.pk,
                "at": now.isoformat(),
            },
            now=now,
        )


def decide(*, supporter: str, product: str, now: datetime) -> Grant | None:
    """Answer a panel's "may this supporter (username) open this product (id)?"; log a yes."""
    return _check_repeatedly_asked(supporter, product, now, via="decision api")


def follow_product_actions(
    *, supporter: Staff, product_id: str, now: datetime
) -> list[ActionDelivery]:
    """The delivery state of a product's recent actions, for the product page that polls it
    while one is on its way; logged like every repeated check, so polling adds no entries."""
    product = Product.objects.filter(pk=product_id).first()
    if (
        product is None
        or _check_repeatedly_asked(supporter, product, now, via="product page") is None
    ):
        raise NotFound("No product with this id that you may access.")
    return recent_actions(product.pk)


def admit_through_proxy(
    *, supporter: Staff, product: Product | None, now: datetime
) -> Grant | None:
    """Answer a reverse proxy's forward-auth check; log a yes."""
    if product is None:
        DECISIONS.labels(basis="none", outcome="denied").inc()
        return None
    return _check_repeatedly_asked(supporter, product, now, via="forward auth")


# Read with the decision: most checks fall into a window already logged, and they answer
# after this one query, without taking a write lock.
_WINDOW_DECISION = decision_query(
    {
        "window_logged": Exists(
            RepeatedCheck.objects.filter(
                product_id=Param("product", CharField()),
                bucket=Param("window", DateTimeField()),
                grant=OuterRef("pk"),
            )
        )
    }
)


def _check_repeatedly_asked(
    supporter: Staff | str, product: Product | str, now: datetime, *, via: str
) -> Grant | None:
    """Decide a check that panels and proxies repeat; log a yes once per grant, product, 5 min.

    A polling panel or a proxied page asks dozens of times a minute: one entry per window says
    enough (DESIGN: coalesced checks), and the log does not grow with the polling rate.
    """
    product_id = product.pk if isinstance(product, Product) else product
    # Decided before any transaction: a deny writes nothing, so it must not take the write
    # lock (SQLite's IMMEDIATE transactions take it at BEGIN) that polling would queue on.
    bucket = now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0)
    grant = may_access(supporter, product, now, query=_WINDOW_DECISION, values={"window": bucket})
    if grant is None or grant.window_logged:  # type: ignore[attr-defined]  # read along
        return grant
    try:
        with transaction.atomic():
            # The unique key settles a race between app processes: one row, one audit entry.
            RepeatedCheck.objects.create(grant=grant, product_id=product_id, bucket=bucket)
            _audit_access(
                Event.ACCESS_DECIDED,
                grant.supporter,
                grant,
                now,
                product=product_id,
                detail={"via": via},
            )
    except IntegrityError:
        # Another request logged this window since the decision read it; anything else that
        # failed to write is not swallowed.
        window = RepeatedCheck.objects.filter(grant=grant, product_id=product_id, bucket=bucket)
        if not window.exists():
            raise
    return grant
