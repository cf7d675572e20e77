"""Small pieces shared by the web views: error pages and messages, cursors."""

import sys

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.template.loader import get_template
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from supportpin.lib import clock
from supportpin.lib.problems import DATABASE_AWAY, RETRY_AFTER_SECONDS, Problem, TooManyAttempts
from supportpin.tickets.models import Status, Ticket
from supportpin.tickets.queries import ticket_page


def not_found(request):
    return render(request, "web/not_found.html", status=404)


def show_problem(request, problem: Problem) -> None:
    """Tell the user, in their language, why the service refused what they asked."""
    messages.error(request, problem_text(problem))


def problem_text(problem: Problem) -> str:
    if isinstance(problem, TooManyAttempts) and not problem.admins_told:
        return _(
            "You are blocked after too many wrong PINs. No admin could be told (no admin "
            "address is set up): ask an admin to unlock you."
        )
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
        "own_account": _("You cannot do this to your own account."),
        "no_email_address": _(
            "This staff member has no e-mail address for the link. Set one in the billing "
            "system first."
        ),
    }
    if problem.code == "invalid" and any(e.get("field") == "files" for e in problem.errors or []):
        return attachment_limits()
    return texts.get(problem.code, problem.detail)


# The billing system's product types and states and the configured actions arrive as plain
# English words; the ones a hosting provider uses are translated, any other is shown as sent.
PRODUCT_WORDS = {
    "gameserver": gettext_lazy("Game server"),
    "teamspeak": gettext_lazy("TeamSpeak server"),
    "vserver": gettext_lazy("vServer"),
    "rootserver": gettext_lazy("Root server"),
    "dedicated": gettext_lazy("Dedicated server"),
    "webspace": gettext_lazy("Web space"),
    "webhosting": gettext_lazy("Web hosting"),
    "domain": gettext_lazy("Domain"),
    "mail": gettext_lazy("E-mail"),
    "active": gettext_lazy("active"),
    "suspended": gettext_lazy("suspended"),
    "cancelled": gettext_lazy("cancelled"),
    "pending": gettext_lazy("pending"),
    "start": gettext_lazy("Start"),
    "stop": gettext_lazy("Stop"),
    "restart": gettext_lazy("Restart"),
    "reinstall": gettext_lazy("Reinstall"),
}


def product_word(word: str) -> str:
    """A product type, state or action in the reader's language; an unknown word as it is."""
    return str(PRODUCT_WORDS.get(word, word))


END_REASONS = {
    "expired": gettext_lazy("its time ran out"),
    "rotated": gettext_lazy("replaced by a new PIN"),
    "revoked": gettext_lazy("you revoked it"),
    "deactivated": gettext_lazy("the supporter ended the access"),
    "too_many_failures": gettext_lazy("locked after too many wrong entries"),
    "supporter_disabled": gettext_lazy("the supporter's account was disabled"),
    "released": gettext_lazy("the ticket was released"),
}


def end_reason(reason: str) -> str:
    """Why a PIN or access ended, in the reader's language; an unknown reason as it is."""
    return str(END_REASONS.get(reason, reason))


def confirmed(request) -> bool:
    """True when the POST carries the user's yes to a change that cannot be undone."""
    return request.POST.get("confirm") == "yes"


def ask_to_confirm(request, *, question: str, confirm_label: str, cancel_url: str):
    """Ask before a change that cannot be undone: the page's form repeats the POST with a yes.

    With JavaScript the browser's own dialog asks and sends the yes at once (app.js), so only
    browsers without it see this page.
    """
    fields = [
        (name, value)
        for name, value in request.POST.items()
        if name not in ("csrfmiddlewaretoken", "confirm")
    ]
    context = {
        "question": question,
        "confirm_label": confirm_label,
        "cancel_url": cancel_url,
        "fields": fields,
    }
    return render(request, "web/confirm.html", context)


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
        "locks_at": ticket.locks_at(),
        "autocloses_at": ticket.autocloses_soon(now),
        "closed": ticket.status_at(now) == Status.CLOSED,
    }


def page_not_found(request, exception=None):
    """Django's 404 handler: the app's own page, in the user's language."""
    return not_found(request)


def server_error(request):
    """Django's 500 handler; a database that is briefly away (a restart, a failover) is a 503.

    Rendered without the request's context: the session and the signed-in user live in the
    database, which may be what failed.
    """
    if not isinstance(sys.exc_info()[1], DATABASE_AWAY):
        return HttpResponseServerError(get_template("web/server_error.html").render())
    page = get_template("web/unavailable.html").render({"retry_after": RETRY_AFTER_SECONDS})
    response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def permission_denied(request, exception=None):
    """Django's 403 handler: the app's own page, in the user's language."""
    return render(request, "web/forbidden.html", status=403)


def ticket_page_for(request, tickets, *, size: int) -> tuple[list[Ticket], str | None]:
    """One page of tickets at the `cursor` parameter; an unknown cursor shows the first page."""
    try:
        return ticket_page(tickets, cursor=request.GET.get("cursor"), size=size)
    except Problem:
        return ticket_page(tickets, cursor=None, size=size)
