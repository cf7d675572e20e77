"""The supporter panel: enter a PIN, granted customers and products, the ticket queue."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from supportpin.access.access import access_product_for_supporter, live_grants
from supportpin.access.actions import (
    claim_ticket,
    close_by_supporter,
    end_grant,
    redeem_pin,
    release_ticket,
    reopen_by_supporter,
)
from supportpin.access.queries import admins_told_of_block
from supportpin.accounts.models import Customer
from supportpin.lib import clock
from supportpin.lib.problems import NotFound, Problem
from supportpin.products.actions import (
    follow_product_actions,
    list_customer_products,
    offered_actions,
    read_product,
    run_product_action,
)
from supportpin.products.queries import ActionDelivery, on_the_way, recent_actions
from supportpin.tickets import actions as ticket_actions
from supportpin.tickets import attachments
from supportpin.tickets.models import Ticket
from supportpin.tickets.queries import COUNT_LIMIT, QueueFilter, filtered_queue, queue_counts
from supportpin.web.forms import MessageForm, QueueSearchForm, RedeemForm
from supportpin.web.pages import (
    ask_to_confirm,
    confirmed,
    not_found,
    problem_text,
    product_word,
    show_problem,
    ticket_context,
    ticket_page_for,
)
from supportpin.web.session import background_refresh, staff_required

PAGE_SIZE = 25
QUEUE_FILTER_LABELS = {
    QueueFilter.UNCLAIMED: gettext_lazy("Unclaimed"),
    QueueFilter.MINE: gettext_lazy("Mine"),
    QueueFilter.WAITING: gettext_lazy("Waiting for support"),
    QueueFilter.ALL: gettext_lazy("All"),
}


@staff_required
def home(request):
    form = RedeemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            redemption = redeem_pin(
                supporter=request.staff,
                customer_number=form.cleaned_data["customer"].strip(),
                pin=form.cleaned_data["pin"],
                now=clock.now(),
            )
        except Problem as problem:
            form.add_error(None, problem_text(problem))
        else:
            return redirect("web:support-customer", number=redemption.grant.customer_id)
    context = {
        "form": form,
        "grants": _my_grants(request),
        "admins_told": admins_told_of_block(request.staff),
    }
    return render(request, "web/support/home.html", context, status=400 if form.errors else 200)


@staff_required
@background_refresh
def grants(request):
    """My active grants, refreshed by htmx so ended and expired ones disappear."""
    return render(request, "web/support/_grants.html", {"grants": _my_grants(request)})


def _my_grants(request):
    return (
        live_grants(clock.now())
        .filter(supporter=request.staff)
        .select_related("ticket")
        .order_by("-started_at")
    )


@require_POST
@staff_required
def deactivate(request, grant_id: int):
    try:
        end_grant(supporter=request.staff, grant_id=grant_id, now=clock.now())
    except Problem as problem:
        show_problem(request, problem)
    else:
        messages.success(request, _("PIN deactivated. Your access has ended."))
    return redirect("web:support-home")


@staff_required
def customer(request, number: str):
    try:
        products = list_customer_products(
            supporter=request.staff, customer_number=number, now=clock.now()
        )
    except Problem:
        return _no_access(request)
    # Reached in any case ("c-1001"); named as stored, once the access is known to be there.
    stored = Customer.objects.numbered(number).values_list("pk", flat=True).first() or number
    context = {"number": stored, "products": products}
    return render(request, "web/support/customer.html", context)


@staff_required
def product(request, product_id: str):
    try:
        found = read_product(supporter=request.staff, product_id=product_id, now=clock.now())
    except Problem:
        return _no_access(request)
    context = {
        "product": found,
        "actions": offered_actions(),
        "confirm_actions": settings.SUPPORTPIN_CONFIRM_PRODUCT_ACTIONS,
        **_deliveries(found.pk, recent_actions(found.pk)),
    }
    return render(request, "web/support/product.html", context)


@staff_required
def product_deliveries(request, product_id: str):
    """The product page's "Recent actions", polled by htmx while an action is on its way."""
    try:
        deliveries = follow_product_actions(
            supporter=request.staff, product_id=product_id, now=clock.now()
        )
    except Problem:
        return _no_access(request)
    return render(request, "web/support/_deliveries.html", _deliveries(product_id, deliveries))


def _deliveries(product_id: str, deliveries: list[ActionDelivery]) -> dict:
    # While an action is on its way, the page asks again until it is delivered or failed.
    return {"product_id": product_id, "deliveries": deliveries, "polls": on_the_way(deliveries)}


@require_POST
@staff_required
def product_action(request, product_id: str):
    action = request.POST.get("action", "")
    if not offered_actions():
        messages.error(request, _("Product actions are off: no webhook address is set."))
        return redirect("web:support-product", product_id=product_id)
    if action in settings.SUPPORTPIN_CONFIRM_PRODUCT_ACTIONS and not confirmed(request):
        try:
            found, _grant = access_product_for_supporter(request.staff, product_id, now=clock.now())
        except Problem:
            return _no_access(request)
        return ask_to_confirm(
            request,
            question=_("“%(action)s” %(name)s? This cannot be undone.")
            % {"action": product_word(action), "name": found.name},
            confirm_label=product_word(action),
            cancel_url=reverse("web:support-product", args=[product_id]),
        )
    try:
        run_product_action(
            supporter=request.staff, product_id=product_id, action=action, now=clock.now()
        )
    except Problem as problem:
        if problem.code == "not_found":
            return _no_access(request)
        show_problem(request, problem)
    else:
        messages.success(
            request,
            _("“%(action)s” requested. Whether it got through is shown under “Recent actions”.")
            % {"action": product_word(action)},
        )
    return redirect("web:support-product", product_id=product_id)


def _no_access(request):
    return render(request, "web/support/no_access.html", status=404)


@staff_required
def tickets(request):
    view = request.GET.get("view")
    shown = QueueFilter(view) if view in QueueFilter.values else QueueFilter.UNCLAIMED
    form = QueueSearchForm(request.GET)
    context = {
        "form": form,
        "view": shown.value,
        "filters": _filter_links(shown, None),
        "term": request.GET.get("q", "").strip(),
    }
    if not form.is_valid():
        return render(request, "web/support/tickets.html", context, status=400)
    search, now = form.cleaned_data["q"], clock.now()
    counts = queue_counts(supporter=request.staff, now=now, search=search)
    found = filtered_queue(shown, supporter=request.staff, now=now, search=search)
    page, next_cursor = ticket_page_for(request, found, size=PAGE_SIZE)
    context |= {
        "tickets": page,
        "next_cursor": next_cursor,
        "searching": search is not None,
        "found": counts[shown],
        "count_limit": COUNT_LIMIT,
        "filters": _filter_links(shown, counts),
    }
    return render(request, "web/support/tickets.html", context)


def _count_text(count: int) -> str:
    return f"{COUNT_LIMIT}+" if count > COUNT_LIMIT else str(count)


def _filter_links(shown: QueueFilter, counts: dict[QueueFilter, int] | None) -> list[dict]:
    return [
        {
            "value": queue_filter.value,
            "label": QUEUE_FILTER_LABELS[queue_filter],
            "current": queue_filter == shown,
            "count": _count_text(counts[queue_filter]) if counts is not None else None,
        }
        for queue_filter in QueueFilter
    ]


@staff_required
def ticket(request, ticket_id: int):
    form = MessageForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        # The action loads (and locks) the ticket itself: the view does not load it before.
        try:
            ticket_actions.reply(
                supporter=request.staff,
                ticket_id=ticket_id,
                body=form.cleaned_data["body"],
                now=clock.now(),
                files=form.cleaned_data["attachments"],
            )
        except NotFound:
            return not_found(request)
        except Problem as problem:
            show_problem(request, problem)
        else:
            messages.success(request, _("Your reply has been sent to the customer."))
        return redirect("web:support-ticket", ticket_id=ticket_id)
    found = Ticket.objects.select_related("assignee").filter(pk=ticket_id).first()
    if found is None:
        return not_found(request)
    context = ticket_context(found, form) | {"mine": found.assignee_id == request.staff.pk}
    return render(request, "web/support/ticket.html", context, status=400 if form.errors else 200)


TICKET_CHANGES = {
    "claim": lambda staff, ticket_id, now: claim_ticket(
        supporter=staff, ticket_id=ticket_id, now=now
    ),
    "release": lambda staff, ticket_id, now: release_ticket(
        staff=staff, ticket_id=ticket_id, now=now
    ),
    "close": lambda staff, ticket_id, now: close_by_supporter(
        supporter=staff, ticket_id=ticket_id, now=now
    ),
    "reopen": lambda staff, ticket_id, now: reopen_by_supporter(
        supporter=staff, ticket_id=ticket_id, now=now
    ),
}


@require_POST
@staff_required
def ticket_change(request, ticket_id: int, change: str):
    try:
        TICKET_CHANGES[change](request.staff, ticket_id, clock.now())
    except Problem as problem:
        show_problem(request, problem)
    return redirect("web:support-ticket", ticket_id=ticket_id)


@staff_required
def attachment(request, ticket_id: int, attachment_id: int, preview: bool = False):
    """A file of any ticket (every supporter may read every ticket)."""
    try:
        found = attachments.find(Ticket.objects.all(), ticket_id, attachment_id)
        return attachments.serve(found, preview=preview)
    except NotFound:
        return not_found(request)
