"""Grant events: every grant's start and end reaches the provider's backend once, signed, with
the exact moment, including the ends that come from time alone."""

import hashlib
import hmac
import json
import unittest
from collections import Counter
from datetime import datetime, timedelta

import time_machine
from django.db import connection
from django.test import TransactionTestCase, override_settings

from supportpin.access.actions import claim_ticket, open_support_pin, redeem_pin
from supportpin.access.models import Grant
from supportpin.accounts.models import Role
from supportpin.lib import clock
from supportpin.notify.models import Kind, OutboxMessage
from supportpin.notify.tests.test_outbox import WebhookReceiver
from supportpin.ops.worker import run_pass
from supportpin.tickets.actions import open_ticket, reply
from supportpin.tickets.tests.test_lifecycle import DAY, SECOND, TicketTestCase
from testsupport import PASSWORD, START, in_parallel, make_customer, make_staff

SECRET = "grant-events-test-secret"
MINUTE = timedelta(minutes=1)


class GrantEventTestCase(TicketTestCase):
    """A real receiver at SUPPORTPIN_EVENTS_WEBHOOK_URL, and the real worker pass."""

    def setUp(self):
        super().setUp()
        self.receiver = WebhookReceiver()
        self.addCleanup(self.receiver.close)
        settings = override_settings(
            SUPPORTPIN_EVENTS_WEBHOOK_URL=self.receiver.url,
            SUPPORTPIN_EVENTS_WEBHOOK_SECRET=SECRET,
        )
        settings.enable()
        self.addCleanup(settings.disable)

    def worker_pass(self) -> None:
        run_pass()

    def events(self) -> list[dict]:
        """What the receiver got so far, after a worker pass, each checked as a receiver would."""
        self.worker_pass()
        received = []
        for request in self.receiver.requests:
            timestamp = request["headers"]["X-SupportPIN-Timestamp"]
            signed = timestamp.encode() + b"." + request["body"]
            expected = hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
            self.assertEqual(request["headers"]["X-SupportPIN-Signature"], f"sha256={expected}")
            received.append(json.loads(request["body"]))
        return received

    def ends(self) -> list[tuple[int, str, datetime]]:
        """(grant id, reason, occurred_at) of every grant.ended received."""
        return [
            (e["grant"]["id"], e["reason"], datetime.fromisoformat(e["occurred_at"]))
            for e in self.events()
            if e["type"] == "grant.ended"
        ]

    def starts(self) -> list[int]:
        return [e["grant"]["id"] for e in self.events() if e["type"] == "grant.started"]

    def redeemed_grant(self) -> int:
        response = self.redeem(self.current_pin())
        self.assertEqual(response.status_code, 201, response.content)
        return response.json()["id"]

    def claimed_grant(self, ticket_id: int) -> int:
        self.claim(ticket_id)
        return Grant.objects.get(ticket_id=ticket_id, ended_at__isnull=True).pk


class GrantStartedTests(GrantEventTestCase):
    def test_it_announces_a_redemption_with_the_grant_and_all_products(self):
        self.travel_to(START + 5 * MINUTE)
        grant_id = self.redeemed_grant()

        (event,) = self.events()

        self.assertEqual(event["type"], "grant.started")
        self.assertEqual(datetime.fromisoformat(event["occurred_at"]), START + 5 * MINUTE)
        self.assertNotIn("reason", event)
        self.assertEqual(
            event["grant"],
            {
                "id": grant_id,
                "basis": "pin",
                "customer": "C-1001",
                "supporter": "Sam S.",
                "supporter_username": "sam",
                "ticket": None,
                "started_at": (START + 5 * MINUTE).isoformat(),
                "until": (START + 65 * MINUTE).isoformat(),
                "products": None,
            },
        )
        delivery = OutboxMessage.objects.get(kind=Kind.GRANT_EVENT)
        self.assertEqual(
            self.receiver.requests[0]["headers"]["X-SupportPIN-Delivery"], str(delivery.pk)
        )

    def test_it_announces_a_claim_with_the_products_the_ticket_names(self):
        ticket = self.open_ticket(products=["vs-1"])
        grant_id = self.claimed_grant(ticket["id"])

        (event,) = self.events()

        self.assertEqual(event["type"], "grant.started")
        self.assertEqual(event["grant"]["id"], grant_id)
        self.assertEqual(event["grant"]["basis"], "ticket")
        self.assertEqual(event["grant"]["ticket"], ticket["id"])
        self.assertEqual(event["grant"]["products"], ["vs-1"])
        self.assertIsNone(event["grant"]["until"])

    def test_it_gives_each_event_its_own_id(self):
        self.redeemed_grant()
        self.assertEqual(
            self.post("/me/support-pin/rotate", token=self.token_for(self.customer)).status_code,
            200,
        )

        ids = [e["id"] for e in self.events()]

        self.assertEqual(len(ids), 2)
        self.assertEqual(len(set(ids)), 2)

    def test_it_queues_no_event_while_no_url_is_set(self):
        with override_settings(SUPPORTPIN_EVENTS_WEBHOOK_URL=""):
            self.redeemed_grant()

        self.assertFalse(OutboxMessage.objects.filter(kind=Kind.GRANT_EVENT).exists())
        self.assertEqual(self.events(), [])


class PinGrantEndedTests(GrantEventTestCase):
    def test_it_announces_an_expiry_once_at_the_pins_end(self):
        grant_id = self.redeemed_grant()
        self.travel_to(START + 60 * MINUTE - SECOND)
        self.assertEqual(self.ends(), [])

        # The worker notices a little after the second; the event keeps the second.
        self.travel_to(START + 60 * MINUTE + 3 * SECOND)
        self.assertEqual(self.ends(), [(grant_id, "expired", START + 60 * MINUTE)])
        self.travel_to(START + 70 * MINUTE)
        self.current_pin()
        self.assertEqual(len(self.ends()), 1)

    def test_it_announces_an_expiry_first_noticed_by_the_customer_with_the_pins_end(self):
        grant_id = self.redeemed_grant()
        self.travel_to(START + 95 * MINUTE)

        self.current_pin()  # the customer opens "Support" before any worker ran

        self.assertEqual(self.ends(), [(grant_id, "expired", START + 60 * MINUTE)])

    def test_it_names_each_way_a_customer_or_supporter_ends_a_pin_grant(self):
        customer_token = self.token_for(self.customer)
        ways = {
            "rotated": lambda grant_id: self.post("/me/support-pin/rotate", token=customer_token),
            "customer": lambda grant_id: self.delete(f"/me/grants/{grant_id}", customer_token),
            "supporter": lambda grant_id: self.delete(
                f"/support/grants/{grant_id}", self.token_for(self.supporter)
            ),
        }
        for reason, end in ways.items():
            with self.subTest(reason):
                self.receiver.requests.clear()
                grant_id = self.redeemed_grant()
                self.travel_to(clock.now() + MINUTE)

                self.assertLess(end(grant_id).status_code, 300)

                self.assertEqual(self.ends(), [(grant_id, reason, clock.now())])

    def test_it_announces_the_end_by_wrong_attempts(self):
        grant_id = self.redeemed_grant()
        pin = self.current_pin()
        self.travel_to(START + 2 * MINUTE)

        for _ in range(5):
            self.redeem(self.wrong_pin(pin), supporter=self.other_supporter)

        self.assertEqual(self.ends(), [(grant_id, "wrong_attempts", START + 2 * MINUTE)])

    def test_it_ends_every_grant_of_a_disabled_supporter_once(self):
        pin_grant = self.redeemed_grant()
        ticket_grant = self.claimed_grant(self.open_ticket()["id"])
        self.travel_to(START + 7 * MINUTE)

        disabled = self.put(
            "/staff/sam",
            {"display_name": "Sam S.", "password": PASSWORD, "role": "supporter", "active": False},
            self.api_key,
        )

        self.assertEqual(disabled.status_code, 200, disabled.content)
        moment = START + 7 * MINUTE
        self.assertCountEqual(
            self.ends(),
            [
                (pin_grant, "supporter_disabled", moment),
                (ticket_grant, "supporter_disabled", moment),
            ],
        )
        self.travel_to(START + 30 * DAY)
        self.assertEqual(len(self.ends()), 2)


class TicketGrantEndedTests(GrantEventTestCase):
    def test_it_announces_a_close_and_a_new_grant_on_reopen(self):
        ticket = self.open_ticket()
        first = self.claimed_grant(ticket["id"])
        self.travel_to(START + DAY)
        self.assertEqual(self.customer_post(ticket["id"], "close").status_code, 200)
        self.travel_to(START + 2 * DAY)

        self.write(ticket["id"])  # the customer's message reopens it

        second = Grant.objects.get(ticket_id=ticket["id"], ended_at__isnull=True).pk
        self.assertNotEqual(first, second)
        self.assertEqual(self.starts(), [first, second])
        self.assertEqual(self.ends(), [(first, "ticket_closed", START + DAY)])
        self.assertEqual(self.product_status(self.supporter), 200)

    def test_it_announces_a_release(self):
        ticket = self.open_ticket()
        grant_id = self.claimed_grant(ticket["id"])
        self.travel_to(START + 3 * MINUTE)

        self.assertEqual(self.staff_post(self.supporter, ticket["id"], "release").status_code, 200)

        self.assertEqual(self.ends(), [(grant_id, "ticket_released", START + 3 * MINUTE)])

    def test_it_announces_an_auto_close_once_at_its_second(self):
        ticket = self.open_ticket()
        grant_id = self.claimed_grant(ticket["id"])
        self.answer(ticket["id"])
        self.travel_to(START + 14 * DAY - SECOND)
        self.assertEqual(self.ends(), [])

        self.travel_to(START + 14 * DAY + 4 * SECOND)
        self.assertEqual(self.ends(), [(grant_id, "ticket_autoclosed", START + 14 * DAY)])
        self.travel_to(START + 15 * DAY)
        self.assertEqual(len(self.ends()), 1)

    def test_it_announces_an_auto_close_no_worker_saw_before_the_customer_reopened(self):
        ticket = self.open_ticket()
        first = self.claimed_grant(ticket["id"])
        self.answer(ticket["id"])
        self.travel_to(START + 20 * DAY)

        self.write(ticket["id"])

        second = Grant.objects.get(ticket_id=ticket["id"], ended_at__isnull=True).pk
        self.assertEqual(self.ends(), [(first, "ticket_autoclosed", START + 14 * DAY)])
        self.assertEqual(self.starts(), [first, second])

    def test_it_announces_a_lock_once_at_its_second(self):
        ticket = self.open_ticket()
        grant_id = self.claimed_grant(ticket["id"])  # open, never answered: only the lock ends it
        self.travel_to(START + 30 * DAY - SECOND)
        self.assertEqual(self.ends(), [])

        self.travel_to(START + 30 * DAY + 2 * SECOND)
        self.assertEqual(self.ends(), [(grant_id, "ticket_locked", START + 30 * DAY)])
        self.travel_to(START + 31 * DAY)
        self.assertEqual(len(self.ends()), 1)

    def test_it_names_the_earlier_of_an_auto_close_and_a_lock(self):
        ticket = self.open_ticket()
        grant_id = self.claimed_grant(ticket["id"])
        self.travel_to(START + 10 * DAY)
        self.answer(ticket["id"])  # auto-closes at day 24, before the lock at day 30

        self.travel_to(START + 40 * DAY)

        self.assertEqual(self.ends(), [(grant_id, "ticket_autoclosed", START + 24 * DAY)])


@unittest.skipUnless(
    connection.vendor == "postgresql",
    "needs PostgreSQL: SQLite takes one writer at a time (run with DATABASE_URL=postgres://…)",
)
class GrantEventRaceTests(TransactionTestCase):
    def test_it_announces_each_end_once_with_two_workers(self):
        receiver = WebhookReceiver()
        self.addCleanup(receiver.close)
        supporter = make_staff("sam", "Sam S.", Role.SUPPORTER, now=START)
        customers = [make_customer(f"C-{n}", now=START) for n in range(12)]
        with override_settings(
            SUPPORTPIN_EVENTS_WEBHOOK_URL=receiver.url, SUPPORTPIN_EVENTS_WEBHOOK_SECRET=SECRET
        ):
            for customer in customers:
                # A PIN grant that expires at minute 60, and a ticket that auto-closes on day 14.
                pin = open_support_pin(customer=customer, now=START)
                redeem_pin(supporter=supporter, customer_number=customer.pk, pin=pin.pin, now=START)
                ticket = open_ticket(
                    customer=customer,
                    subject="Lag",
                    message="…",
                    product_ids=[],
                    follows_id=None,
                    now=START,
                )
                claim_ticket(supporter=supporter, ticket_id=ticket.pk, now=START)
                reply(supporter=supporter, ticket_id=ticket.pk, body="Done.", now=START)

            with time_machine.travel(START + 15 * DAY, tick=False):
                in_parallel(lambda _: run_pass(), range(2))
                run_pass()

        bodies = [json.loads(r["body"]) for r in receiver.requests]
        ended = Counter(b["grant"]["id"] for b in bodies if b["type"] == "grant.ended")
        self.assertEqual(len(ended), 24)
        self.assertEqual(set(ended.values()), {1})
        deliveries = Counter(r["headers"]["X-SupportPIN-Delivery"] for r in receiver.requests)
        self.assertEqual(len(deliveries), 48)
        self.assertEqual(set(deliveries.values()), {1})
