"""The shared test base: named personas with personal-data markers, and API helpers.

It lives outside the installed package (pytest puts the repository root on the path), so the
service ships no test code and `lib` stays free of the domain.
"""

import json
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import time_machine
from django.db import connection
from django.test import TestCase

from supportpin.accounts.actions import (
    SYSTEM,
    Address,
    create_api_key,
    issue_token,
    sync_customer,
    sync_staff,
)
from supportpin.accounts.models import Customer, Role, Staff
from supportpin.lib import clock
from supportpin.notify.delivery import email_of
from supportpin.notify.models import Kind, OutboxMessage
from supportpin.products.actions import sync_product
from supportpin.products.models import Product

START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
# How many requests the PostgreSQL race tests fire at once.
THREADS = 16


def personal_markers(number: str) -> dict[str, str]:
    """Unique strings for every personal field of a customer; none may reach staff."""
    tag = f"PDX{number}"
    return {
        "name": f"Name-{tag}",
        "email": f"mail-{tag.lower()}@marker.example",
        "phone": f"Phone-{tag}",
        "street": f"Street-{tag}",
        "zip": f"Zip-{tag}",
        "city": f"City-{tag}",
        "country": f"Country-{tag}",
    }


def queued_emails(to: str | None = None) -> list[dict]:
    """The queued e-mails (those to `to`), oldest first, as they will be sent: to, subject, body."""
    emails = [
        email_of(message.payload)
        for message in OutboxMessage.objects.filter(kind=Kind.EMAIL).order_by("id")
    ]
    return [
        {"to": email.to, "subject": email.subject, "body": email.body}
        for email in emails
        if to is None or to in email.to
    ]


def make_customer(number: str, *, now: datetime) -> Customer:
    m = personal_markers(number)
    sync_customer(
        number=number,
        name=m["name"],
        email=m["email"],
        password=PASSWORD,
        phone=m["phone"],
        address=Address(m["street"], m["zip"], m["city"], m["country"]),
        now=now,
    )
    return Customer.objects.get(pk=number)


def make_product(product_id: str, customer: Customer, *, now: datetime, type="gameserver"):
    sync_product(
        product_id=product_id,
        customer_number=customer.pk,
        type=type,
        name=f"Product {product_id}",
        status="active",
        details={"node": "fra-1"},
        now=now,
    )
    return Product.objects.get(pk=product_id)


def make_staff(username: str, display_name: str, role: Role, *, now: datetime) -> Staff:
    sync_staff(
        username=username,
        display_name=display_name,
        password=PASSWORD,
        role=role,
        active=True,
        email=f"{username}@staff.example",
        now=now,
        by=SYSTEM,
    )
    return Staff.objects.get(username=username)


class SupportPinTestCase(TestCase):
    """Personas: customer, other_customer, supporter, other_supporter, admin; clock at START."""

    customer: Customer
    other_customer: Customer
    product: Product
    second_product: Product
    other_product: Product
    supporter: Staff
    other_supporter: Staff
    admin: Staff
    api_key: str

    @classmethod
    def setUpTestData(cls):
        now = START
        cls.customer = make_customer("C-1001", now=now)
        cls.other_customer = make_customer("C-2002", now=now)
        cls.product = make_product("gs-1", cls.customer, now=now)
        cls.second_product = make_product("vs-1", cls.customer, now=now, type="vserver")
        cls.other_product = make_product("gs-2", cls.other_customer, now=now)
        cls.supporter = make_staff("sam", "Sam S.", Role.SUPPORTER, now=now)
        cls.other_supporter = make_staff("olga", "Olga O.", Role.SUPPORTER, now=now)
        cls.admin = make_staff("ada", "Ada A.", Role.ADMIN, now=now)
        cls.api_key = create_api_key(name="billing", now=now)

    def setUp(self):
        traveller = time_machine.travel(START, tick=False)
        self.clock = traveller.start()
        self.addCleanup(traveller.stop)

    # --- time ---------------------------------------------------------------------------

    def travel_to(self, moment: datetime) -> None:
        self.clock.move_to(moment, tick=False)

    # --- tokens -------------------------------------------------------------------------

    def token_for(self, who) -> str:
        """A bearer token for a customer or staff member, issued through the sign-in action."""
        if isinstance(who, Customer):
            return issue_token(now=clock.now(), hours=24, role="customer", customer=who).token
        return issue_token(now=clock.now(), hours=12, role=who.role, staff=who).token

    # --- requests -----------------------------------------------------------------------

    def call(self, method: str, path: str, *, token: str | None = None, body=None, raw=None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        content_type = "application/json" if data is not None else "application/octet-stream"
        return self.client.generic(
            method, f"/api/v1{path}", data=data or "", content_type=content_type, headers=headers
        )

    def get(self, path: str, token: str | None = None):
        return self.call("GET", path, token=token)

    def post(self, path: str, body=None, token: str | None = None):
        return self.call("POST", path, token=token, body=body if body is not None else {})

    def put(self, path: str, body, token: str | None = None):
        return self.call("PUT", path, token=token, body=body)

    def delete(self, path: str, token: str | None = None):
        return self.call("DELETE", path, token=token)

    def assertProblem(self, response, status: int, code: str) -> None:
        self.assertEqual(response.status_code, status, response.content)
        self.assertEqual(response["Content-Type"], "application/problem+json")
        body = response.json()
        self.assertEqual((body["status"], body["code"]), (status, code), body)

    # --- domain shortcuts ---------------------------------------------------------------

    def current_pin(self, customer: Customer | None = None) -> str:
        """The PIN the customer reads off "Support" right now."""
        response = self.get("/me/support-pin", self.token_for(customer or self.customer))
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()["pin"]

    def redeem(self, pin: str, *, supporter: Staff | None = None, customer: str | None = None):
        return self.post(
            "/support/pin-redemptions",
            {"customer": customer or self.customer.pk, "pin": pin},
            self.token_for(supporter or self.supporter),
        )

    def wrong_pin(self, pin: str) -> str:
        """A PIN of the same length that is not `pin`."""
        return str((int(pin) + 1) % 10 ** len(pin)).zfill(len(pin))


def in_parallel(work: Callable, args: Iterable) -> list:
    """Run `work(arg)` for every arg in its own thread, all released at once by a barrier.

    Return each call's result or the exception it raised, in the order of `args`. Every
    thread closes its own database connection, so no connection outlives the test.
    """
    args = list(args)
    barrier = threading.Barrier(len(args))
    results: list = [None] * len(args)

    def run(index: int, arg) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(arg)
        except Exception as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, arg)) for i, arg in enumerate(args)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if any(thread.is_alive() for thread in threads):
        raise AssertionError("a thread hung (deadlock?)")
    return results
