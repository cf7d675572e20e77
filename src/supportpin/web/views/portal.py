"""The customer portal: products, Support-PIN, personal data, tickets, access log."""

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from supportpin.access.access import failures_that_locked_previous_pin, live_grants
from supportpin.access.actions import (
    add_customer_message,
    close_by_customer,
    open_support_pin,
    reopen_by_customer,
    revoke_grant,
    rotate_pin,
)
from supportpin.accounts.models import PersonalData
from supportpin.audit.access import access_entry_for_customer
from supportpin.audit.queries import access_log_page, latest_checkpoint, proof_document
from supportpin.lib import clock
from supportpin.lib.problems import NotFound, NotSealedYet, Problem
from supportpin.products.models import Product
from supportpin.tickets import actions as ticket_actions
from supportpin.tickets import attachments
from supportpin.tickets.models import Ticket
from supportpin.web.forms import SUBJECT_MAX_LENGTH, MessageForm, TicketForm
from supportpin.web.pages import (
    ask_to_confirm,
    confirmed,
    cursor_param,
    not_found,
    show_problem,
    ticket_context,
    ticket_page_for,
)
from supportpin.web.session import customer_required

PAGE_SIZE = 25


@customer_required
def products(request):
    items = Product.objects.filter(customer=request.customer).order_by("type", "name")
    return render(request, "web/portal/products.html", {"products": items})


@customer_required
def support(request):
    return render(request, "web/portal/support.html", _support_context(request))


@customer_required
def support_panel(request):
    """The PIN and who holds it, refreshed by htmx while the customer is on the phone."""
    return render(request, "web/portal/_support_panel.html", _support_context(request))


def _support_context(request) -> dict:
    now = clock.now()
    pin = open_support_pin(customer=request.customer, now=now)
    grants = (
        live_grants(now)
        .filter(customer=request.customer)
        .select_related("supporter", "ticket")
        .order_by("-started_at")
    )
    locked = failures_that_locked_previous_pin(pin)
    return {"pin": pin, "grants": grants, "locked_pin_replaced": locked}


@require_POST
@customer_required
def new_pin(request):
    rotate_pin(customer=request.customer, now=clock.now())
    messages.success(request, _("You have a new PIN. The old one no longer works."))
    return redirect("web:portal-support")


@require_POST
@customer_required
def revoke(request, grant_id: int):
    if not confirmed(request):
        return ask_to_confirm(
            request,
            question=_("Revoke this access? The supporter can no longer reach your products."),
            confirm_label=_("Revoke access"),
            cancel_url=reverse("web:portal-support"),
        )
    try:
        revoke_grant(customer=request.customer, grant_id=grant_id, now=clock.now())
    except Problem as problem:
        show_problem(request, problem)
    else:
        messages.success(
            request, _("Access revoked. The supporter can no longer reach your products.")
        )
    return redirect("web:portal-support")


@customer_required
def personal_data(request):
    data = PersonalData.objects.filter(customer=request.customer).first()
    return render(request, "web/portal/data.html", {"data": data})


@customer_required
def access_log(request):
    before = cursor_param(request)
    entries, next_cursor = access_log_page(
        customer_number=request.customer.pk, before=before, size=PAGE_SIZE
    )
    checkpoint = latest_checkpoint()
    context = {
        "entries": entries,
        "next_cursor": next_cursor,
        "sealed_at": checkpoint.created_at if checkpoint else None,
    }
    return render(request, "web/portal/access_log.html", context)


@customer_required
def access_proof(request, entry_id: int):
    try:
        entry = access_entry_for_customer(request.customer.pk, entry_id)
        document = proof_document(entry)
    except NotFound:
        return not_found(request)
    except NotSealedYet:
        messages.info(
            request, _("This entry is being sealed: its proof is ready in a few seconds.")
        )
        return redirect("web:portal-access-log")
    response = JsonResponse(document, json_dumps_params={"indent": 2, "ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="access-log-proof-{entry.pk}.json"'
    return response


@customer_required
def tickets(request):
    own = Ticket.objects.filter(customer=request.customer)
    page, next_cursor = ticket_page_for(request, own, size=PAGE_SIZE)
    context = {"tickets": page, "next_cursor": next_cursor}
    return render(request, "web/portal/tickets.html", context)


@customer_required
def new_ticket(request):
    own = Product.objects.filter(customer=request.customer).order_by("name")
    form = TicketForm(request.POST or None, products=own, initial=_follow_up_of(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = ticket_actions.open_ticket(
                customer=request.customer,
                subject=data["subject"],
                message=data["message"],
                product_ids=data["products"],
                follows_id=data["follows"],
                now=clock.now(),
            )
        except Problem as problem:
            form.add_error(None, problem.detail)
        else:
            messages.success(request, _("Your ticket has been opened."))
            return redirect("web:portal-ticket", ticket_id=ticket.pk)
    status = 400 if form.errors else 200
    return render(request, "web/portal/new_ticket.html", {"form": form}, status=status)


def _follow_up_of(request) -> dict:
    """A follow-up form filled in from the customer's ticket named by `?follows=`, if any."""
    try:
        number = int(request.GET.get("follows", ""))
    except ValueError:
        return {}
    if not 0 < number < 2**63:
        return {}
    followed = Ticket.objects.filter(customer=request.customer, pk=number).first()
    if followed is None:
        return {}
    subject = _("Follow-up to #%(number)s: %(subject)s") % {
        "number": followed.pk,
        "subject": followed.subject,
    }
    return {
        "follows": followed.pk,
        "subject": subject[:SUBJECT_MAX_LENGTH],
        "products": list(followed.products.values_list("pk", flat=True)),
    }


@customer_required
def ticket(request, ticket_id: int):
    form = MessageForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        # The action loads (and locks) the ticket itself: the view does not load it before.
        try:
            add_customer_message(
                customer=request.customer,
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
            messages.success(request, _("Your message has been sent."))
        return redirect("web:portal-ticket", ticket_id=ticket_id)
    own = Ticket.objects.filter(customer=request.customer).select_related("assignee")
    found = own.filter(pk=ticket_id).first()
    if found is None:
        return not_found(request)
    context = ticket_context(found, form)
    return render(request, "web/portal/ticket.html", context, status=400 if form.errors else 200)


@require_POST
@customer_required
def ticket_status(request, ticket_id: int, change: str):
    change_ticket = {
        "close": close_by_customer,
        "reopen": reopen_by_customer,
    }[change]
    try:
        change_ticket(customer=request.customer, ticket_id=ticket_id, now=clock.now())
    except Problem as problem:
        show_problem(request, problem)
    return redirect("web:portal-ticket", ticket_id=ticket_id)


@customer_required
def attachment(request, ticket_id: int, attachment_id: int, preview: bool = False):
    """A file of one of my tickets: a download, or an image's sandboxed preview."""
    own = Ticket.objects.filter(customer=request.customer)
    try:
        return attachments.serve(attachments.find(own, ticket_id, attachment_id), preview=preview)
    except NotFound:
        return not_found(request)
