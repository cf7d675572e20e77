from datetime import timedelta

import pyotp
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from supportpin.access.actions import claim_ticket, close_by_supporter
from supportpin.accounts.actions import (
    SYSTEM,
    Address,
    create_api_key,
    sync_customer,
    sync_staff,
)
from supportpin.accounts.models import Customer, Role, Staff
from supportpin.lib import clock
from supportpin.products.actions import sync_product
from supportpin.tickets import actions as tickets
from supportpin.tickets.models import Ticket

PASSWORD = "demo-password"  # noqa: S105 - demo data only

CUSTOMERS = [
    ("K10001", "Mia Schneider", "mia@example.org", "Hauptstr. 1", "10115", "Berlin"),
    ("K10002", "Jonas Weber", "jonas@example.org", "Marktplatz 7", "80331", "München"),
    ("K10003", "Lea Fischer", "lea@example.org", "Ringweg 3", "50667", "Köln"),
]
# Customers whose e-mails come in English; the others get German ones, the default.
ENGLISH_CUSTOMERS = {"K10003"}
PRODUCTS: list[tuple[str, str, str, str, dict]] = [
    ("gs-1001", "K10001", "gameserver", "Minecraft Survival", {"slots": 20, "node": "de-fra-3"}),
    ("ts-1002", "K10001", "teamspeak", "TeamSpeak Clan", {"slots": 32}),
    ("vs-1003", "K10001", "vserver", "vServer M", {"cores": 4, "ram_gb": 8}),
    ("ws-2001", "K10002", "webspace", "Webspace Pro", {"php": "8.3", "disk_gb": 50}),
    ("dom-2002", "K10002", "domain", "jonas-weber.de", {"tld": "de"}),
    ("gs-3001", "K10003", "gameserver", "Valheim Dedicated", {"slots": 10}),
    ("vs-3002", "K10003", "vserver", "vServer L", {"cores": 8, "ram_gb": 16}),
]
STAFF = [
    ("anna", "Anna (Support)", Role.SUPPORTER),
    ("ben", "Ben (Support)", Role.SUPPORTER),
    ("admin", "Admin", Role.ADMIN),
]


def browser_url(address: str) -> str:
    """Return the URL a browser on this machine opens for runserver's `[host:]port`."""
    host, _, port = address.rpartition(":")
    # A server listening on every address is reached on this machine through the loopback.
    if host in ("", "0.0.0.0", "0", "[::]"):  # noqa: S104 - a listening address, read here
        host = "127.0.0.1"
    return f"http://{host}:{port}"


class Command(BaseCommand):
    help = "Load demo customers, products and staff (idempotent) and print how to sign in."

    def add_arguments(self, parser):
        parser.add_argument(
            "--address",
            default="127.0.0.1:8000",
            help="the [host:]port the web server listens on (make run's HOST), for the links",
        )

    def handle(self, *args, address: str, **options):
        now = clock.now()
        for number, name, email, street, zip_code, city in CUSTOMERS:
            sync_customer(
                number=number,
                name=name,
                email=email,
                password=PASSWORD,
                phone="+49 30 1234567",
                address=Address(street, zip_code, city, "DE"),
                now=now,
                language="en" if number in ENGLISH_CUSTOMERS else "de",
            )
        for product_id, customer, type_, name, details in PRODUCTS:
            sync_product(
                product_id=product_id,
                customer_number=customer,
                type=type_,
                name=name,
                status="active",
                details=details,
                now=now,
            )
        for username, display_name, role in STAFF:
            if not Staff.objects.filter(username=username).exists():
                sync_staff(
                    username=username,
                    display_name=display_name,
                    password=PASSWORD,
                    role=role,
                    active=True,
                    email=f"{username}@support.example.org",
                    now=now,
                    by=SYSTEM,
                )
        if not Ticket.objects.exists():
            self._tickets(now)
        key = create_api_key(name="demo", now=now)
        self._print_sign_in(key, browser_url(address))

    def _tickets(self, now) -> None:
        """One ticket in every state, made by the same actions the API uses, back in time."""
        anna = Staff.objects.get(username="anna")
        ben = Staff.objects.get(username="ben")
        mia, jonas, lea = (Customer.objects.get(pk=c[0]) for c in CUSTOMERS)

        def opened(customer, subject, message, products, at):
            return tickets.open_ticket(
                customer=customer,
                subject=subject,
                message=message,
                product_ids=products,
                follows_id=None,
                now=at,
            )

        opened(mia, "Minecraft-Server startet nicht", "Seit dem Update hängt er.", ["gs-1001"], now)

        answered = opened(jonas, "PHP-Version ändern", "Bitte auf 8.3 umstellen.", [], now)
        claim_ticket(supporter=anna, ticket_id=answered.pk, now=now)
        tickets.reply(
            supporter=anna, ticket_id=answered.pk, body="Ist umgestellt, bitte testen.", now=now
        )

        closed = opened(lea, "Valheim-Mods", "Wie installiere ich Mods?", ["gs-3001"], now)
        claim_ticket(supporter=ben, ticket_id=closed.pk, now=now)
        tickets.reply(supporter=ben, ticket_id=closed.pk, body="Siehe Anleitung.", now=now)
        close_by_supporter(supporter=ben, ticket_id=closed.pk, now=now)

        # Answered 13 days ago: it closes by itself within a day unless the customer replies.
        earlier = now - timedelta(days=13)
        closing = opened(mia, "TeamSpeak-Rechte", "Admin-Rechte fehlen.", ["ts-1002"], earlier)
        claim_ticket(supporter=ben, ticket_id=closing.pk, now=earlier)
        tickets.reply(supporter=ben, ticket_id=closing.pk, body="Rechte sind gesetzt.", now=earlier)

        # Created 31 days ago: locked for good; the customer can open a follow-up.
        long_ago = now - timedelta(days=31)
        locked = opened(lea, "vServer Neuinstallation", "Bitte neu aufsetzen.", [], long_ago)
        claim_ticket(supporter=anna, ticket_id=locked.pk, now=long_ago)

    def _print_sign_in(self, key: str, base: str) -> None:
        write = self.stdout.write
        # Run from the repository root, like `make run`: the venv's command, the demo's env.
        supportpin = "DEBUG=1 .venv/bin/supportpin"
        write("Demo data loaded. Every demo password is: " + PASSWORD)
        write("Customers sign in with customer number (or e-mail):")
        for number, _name, email, *_ in CUSTOMERS:
            language = "e-mails in English" if number in ENGLISH_CUSTOMERS else "e-mails in German"
            write(f"  {number}  ({email}, {language})")
        write("Staff sign in with username, password and a TOTP code:")
        for staff in Staff.objects.filter(username__in=[s[0] for s in STAFF]):
            code = pyotp.TOTP(staff.otp_secret).now()
            write(
                f"  {staff.username:6} {staff.role:9} TOTP secret {staff.otp_secret}  now: {code}"
            )
        if settings.DEBUG:
            write(f"  A fresh code any time, from the repository root: {supportpin} totp anna")
        write(f"Customer portal: {base}/login/")
        write(f"Staff panel:     {base}/staff/login/ (first sign-in: leave the code")
        write("                 empty to set up an authenticator with a QR code)")
        write(f"API docs:        {base}/api/v1/docs   integration key: {key}")
        write("K10001 signed in from a provider's panel, without a password:")
        call_command("signinlink", "K10001", "--base-url", base, stdout=self.stdout)
        write("  A fresh link (each works once, for 60 s), from the repository root:")
        write(f"  {supportpin} signinlink K10001 --base-url {base}")
        write("  or as the panel does it:")
        write(
            f"  curl -s -XPOST -H 'Authorization: Bearer {key}' "
            f"{base}/api/v1/customers/K10001/sign-in-links"
        )
