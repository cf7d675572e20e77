from django import template
from django.utils.translation import gettext_lazy as _

from supportpin.api.present import group_for_reading
from supportpin.lib import clock
from supportpin.tickets.models import Status

register = template.Library()

STATUS_LABELS = {
    Status.OPEN: _("waiting for support"),
    Status.ANSWERED: _("answered"),
    Status.CLOSED: _("closed"),
}


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
