"""The one decision function, and the permission-checked reads built on it."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db.models import (
    CharField,
    DateTimeField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)

from supportpin.access.metrics import DECISIONS
from supportpin.access.models import Basis, EndReason, Grant, SupportPin
from supportpin.accounts.models import Customer, Staff
from supportpin.lib.prepared import Param, PreparedQuery
from supportpin.lib.problems import NotFound
from supportpin.products.models import Product
from supportpin.tickets.models import Ticket, live_q


def live_grants(at: datetime | Param) -> QuerySet[Grant]:
    """Return the grants alive at `at`: the one place that knows when a grant is alive.

    No grant of a disabled supporter lives. A PIN grant lives until its PIN's end; a ticket
    grant while its supporter holds the ticket and the ticket is neither closed (by anyone,
    or by 14 days of silence after an answer) nor locked (30 days after creation). All of it
    is computed from timestamps here, so no worker has to run for it to hold.
    """
    pin_live = Q(basis=Basis.PIN, ends_at__gt=at)
    ticket_live = Q(basis=Basis.TICKET, ticket__assignee=F("supporter")) & live_q(
        at, via="ticket__"
    )
    return Grant.objects.filter(
        pin_live | ticket_live, ended_at__isnull=True, supporter__is_active=True
    )


def decision_query(read_along: Mapping[str, Exists] = {}) -> PreparedQuery[Grant]:
    """Prepare the decision's query, reading `read_along` with the grant.

    `read_along` names facts about the grant (subqueries on its `pk`, with `Param`s for their
    values) that the caller needs next, read in the same query: a polling check learns whether
    its window is logged without a second round trip. Its `Param`s may use the decision's own
    "supporter", "product" and "at"; `may_access` takes the values of any others. Prepare it
    once, at import.
    """
    return PreparedQuery(lambda: _grant_reaching(read_along))


def _grant_reaching(read_along: Mapping[str, Exists]) -> QuerySet[Grant]:
    at = Param("at", DateTimeField())
    product = Param("product", CharField())
    owner = Product.objects.filter(pk=product).values("customer_id")
    named_on_ticket = Exists(
        Ticket.products.through.objects.filter(ticket_id=OuterRef("ticket_id"), product_id=product)
    )
    in_scope = Q(basis=Basis.PIN) | Q(ticket__scoped=False) | named_on_ticket
    return (
        live_grants(at)
        .filter(
            in_scope,
            supporter__username=Param("supporter", CharField()),
            customer_id=Subquery(owner),
        )
        .annotate(**{f"supporter_{name}": F(f"supporter__{name}") for name in _SUPPORTER_ALONG})
        .annotate(**read_along)
        .order_by("basis", "started_at")[:1]
    )


# What the grant's supporter is read with (the rest loads if asked for).
_SUPPORTER_ALONG = ("username", "display_name", "role")
_DECISION = decision_query()


def may_access(
    supporter: Staff | str,
    product: Product | str,
    at: datetime,
    *,
    query: PreparedQuery[Grant] = _DECISION,
    values: Mapping[str, Any] = {},
) -> Grant | None:
    """Return the grant that lets `supporter` reach `product` at `at`, or None.

    A caller that knows only the supporter's username and the product's id (a panel's
    question) passes those: the same one query finds them, and an unknown name is a no. The
    grant comes with its supporter. `query` is one from `decision_query` that reads more along,
    `values` the values of its own `Param`s.
    """
    username = supporter.username if isinstance(supporter, Staff) else supporter
    product_id = product.pk if isinstance(product, Product) else product
    rows = query.run({**values, "supporter": username, "product": product_id, "at": at})
    if not rows:
        DECISIONS.labels(basis="none", outcome="denied").inc()
        return None
    grant = rows[0]
    names = ["id", *_SUPPORTER_ALONG]
    along = [getattr(grant, f"supporter_{name}") for name in _SUPPORTER_ALONG]
    grant.supporter = Staff.from_db(grant._state.db, names, [grant.supporter_id, *along])
    DECISIONS.labels(basis=grant.basis, outcome="allowed").inc()
    return grant


def access_product_for_supporter(
    supporter: Staff, product_id: str, *, now: datetime
) -> tuple[Product, Grant]:
    """Return the product and the grant that reaches it; NotFound for missing and not-yours."""
    product = Product.objects.filter(pk=product_id).first()
    if product is None:
        DECISIONS.labels(basis="none", outcome="denied").inc()
    grant = may_access(supporter, product, now) if product is not None else None
    if product is None or grant is None:
        raise NotFound("No product with this id that you may access.")
    return product, grant


def access_customer_for_supporter(
    supporter: Staff, customer_number: str, *, now: datetime
) -> tuple[list[Product], Grant]:
    """Return the customer's products the supporter reaches and a grant; else NotFound."""
    grants = list(
        live_grants(now)
        .filter(supporter=supporter, customer__in=Customer.objects.numbered(customer_number))
        .select_related("ticket")
        .order_by("basis", "started_at")
    )
    if not grants:
        raise NotFound("No customer with this number that you may access.")
    products = Product.objects.filter(customer_id=grants[0].customer_id).order_by("id")
    if all(g.ticket is not None and g.ticket.scoped for g in grants):
        products = products.filter(tickets__in=[g.ticket_id for g in grants]).distinct()
    return list(products), grants[0]


def failures_that_locked_previous_pin(pin: SupportPin) -> int | None:
    """Return how many wrong PINs locked the PIN that `pin` replaced, or None if none did."""
    previous = (
        SupportPin.objects.filter(customer_id=pin.customer_id, ended_at__isnull=False)
        .exclude(pk=pin.pk)
        .order_by("-ended_at", "-id")
        .values_list("end_reason", "failed_attempts")
        .first()
    )
    if previous is None or previous[0] != EndReason.TOO_MANY_FAILURES:
        return None
    return previous[1]
