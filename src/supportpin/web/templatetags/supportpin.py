from django import template
from django.utils.translation import gettext_lazy as _

from supportpin.api.present import group_for_reading
from supportpin.lib import clock
from supportpin.tickets.models import Status
from supportpin.web.pages import end_reason, product_word

register = template.Library()

STATUS_LABELS = {
    Status.OPEN: _("waiting for support"),
    Status.ANSWERED: _("answered"),
    Status.CLOSED: _("closed"),
}


register.filter("product_word", product_word)
register.filter("end_reason", end_reason)


@register.filter
def key_groups(key: str) -> str:
    """A TOTP key in groups of four for typing by hand: ABCD EFGH …"""
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


@register.filter
def grouped(pin: str) -> str:
    """A PIN grouped for reading aloud: 482 913."""
    return group_for_reading(pin)


@register.inclusion_tag("web/_ticket_badges.html")
def ticket_badges(ticket):
    """The ticket's status and lock as they are right now."""
    now = clock.now()
    status = ticket.status_at(now)
    return {"status": status, "label": STATUS_LABELS[status], "locked": ticket.is_locked(now)}
