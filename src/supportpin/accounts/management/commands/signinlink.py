from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from supportpin.accounts.actions import SIGN_IN_LINK_SECONDS, Actor, create_sign_in_link
from supportpin.accounts.models import Customer
from supportpin.audit.models import ActorKind
from supportpin.lib import clock
from supportpin.lib.problems import Problem

# The audit log names the command as the one who let the customer in.
COMMAND_LINE = Actor(ActorKind.SYSTEM, "supportpin signinlink")


class Command(BaseCommand):
    help = (
        f"Print a one-time link ({SIGN_IN_LINK_SECONDS} s) that signs a customer into the "
        "portal, as POST /api/v1/customers/{number}/sign-in-links does; the link is the last line."
    )

    def add_arguments(self, parser):
        parser.add_argument("number", help="the customer number, e.g. K10001")
        parser.add_argument("--next", default="/portal/", help="the page to land on")
        parser.add_argument(
            "--base-url",
            default=settings.SUPPORTPIN_PUBLIC_URL,
            help="the address customers reach this app at (default: SUPPORTPIN_PUBLIC_URL)",
        )

    def handle(self, *args, number: str, next: str, base_url: str, **options):
        if not base_url:
            raise CommandError("Set SUPPORTPIN_PUBLIC_URL or pass --base-url.")
        customer = Customer.objects.filter(pk=number).first()
        if customer is None:
            raise CommandError(f"No customer with the number {number!r}.")
        try:
            link = create_sign_in_link(
                customer=customer, next=next, by=COMMAND_LINE, now=clock.now()
            )
        except Problem as problem:
            raise CommandError(problem.detail) from problem
        path = reverse("web:sign-in-link", args=[link.token])
        self.stdout.write(
            f"One-time sign-in link for {customer.number}, valid {SIGN_IN_LINK_SECONDS} s "
            f"(until {link.expires_at:%H:%M:%S} UTC):"
        )
        self.stdout.write(base_url.rstrip("/") + path)
