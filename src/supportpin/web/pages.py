"""Small pieces shared by the web views: error pages and messages, cursors."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from supportpin.lib import clock
from supportpin.lib.problems import Problem
from supportpin.tickets.models import Status, Ticket
from supportpin.tickets.queries import ticket_page


def not_found(request):
    return render(request, "web/not_found.html", status=404)


def show_problem(request, problem: Problem) -> None:
    """Tell the user, in their language, why the service refused what they asked."""
    messages.error(request, problem_text(problem))


def problem_text(problem: Problem) -> str:
    texts = {
        "pin_invalid": _(
            "Customer number or PIN is wrong, or the PIN is no longer valid. "
            "Ask the customer to read out the PIN shown under “Support”."
        ),
        "too_many_attempts": _(
            "You are blocked after too many wrong PINs. An admin has been told and can unlock you."
        ),
        "not_assignee": _("Only the supporter who holds this ticket may do that."),
        "ticket_claimed": _("Another supporter has taken over this ticket."),
        "ticket_locked": _("This ticket is locked. Open a follow-up ticket instead."),
        "ticket_closed": _("This ticket is closed."),
        "ticket_closed_by_customer": _(
            "The customer closed this ticket, so only the customer can reopen it."
        ),
        "ticket_grant": _("This access comes from a ticket. Close the ticket to end it."),
        "not_found": _("This no longer exists or you may not see it."),
        "invalid": _("Please check your input."),
        "own_account": _("You cannot disable your own account."),
    }
    if problem.code == "invalid" and any(e.get("field") == "files" for e in problem.errors or []):
        return attachment_limits()
    return texts.get(problem.code, problem.detail)


def attachment_limits() -> str:
    """Say, in the user's language, which files a message may carry."""
    return _("Attach at most %(count)d files to one message, each from 1 byte up to %(size)s.") % {
        "count": settings.SUPPORTPIN_ATTACHMENTS_PER_MESSAGE,
        "size": filesizeformat(settings.SUPPORTPIN_ATTACHMENT_MAX_BYTES),
    }


def cursor_param(request) -> int | None:
    """The `cursor` query parameter as a positive integer, or None."""
    try:
        value = int(request.GET.get("cursor", ""))
    except ValueError:  # also digits int() refuses, such as "²", and numbers of 5,000 digits
        return None
    return value if value > 0 else None


def ticket_context(ticket: Ticket, form) -> dict:
    """What a ticket page shows: the conversation, the reply form, and its state right now."""
    now = clock.now()
    return {
        "ticket": ticket,
        "messages_list": ticket.messages.select_related("author_staff")
        .prefetch_related("attachments")
        .order_by("id"),
        "form": form,
        "locked": ticket.is_locked(now),
        "closed": ticket.status_at(now) == Status.CLOSED,
    }


def page_not_found(request, exception=None):
    """Django's 404 handler: the app's own page, in the user's language."""
    return not_found(request)


def ticket_page_for(request, tickets, *, size: int) -> tuple[list[Ticket], str | None]:
    """One page of tickets at the `cursor` parameter; an unknown cursor shows the first page."""
    try:
        return ticket_page(tickets, cursor=request.GET.get("cursor"), size=size)
    except Problem:
        return ticket_page(tickets, cursor=None, size=size)
