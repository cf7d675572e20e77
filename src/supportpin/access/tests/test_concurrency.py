"""Races that only a real database with row locks settles: parallel redemptions, guesses,
"Support" clicks and audit appends, each from its own thread and connection (PostgreSQL only)."""

import threading
import time
import unittest
from collections import Counter
from datetime import timedelta

import time_machine
from django.db import connection, transaction
from django.test import Client, TransactionTestCase, override_settings

from supportpin.access.actions import open_support_pin, redeem_pin
from supportpin.access.models import Grant, PinAttempt, SupportPin
from supportpin.accounts.actions import issue_token
from supportpin.accounts.models import Role
from supportpin.audit.actions import record, seal
from supportpin.audit.models import ActorKind, AuditEntry, Event
from supportpin.audit.verify import verify_log
from supportpin.lib.problems import PinInvalid, TooManyAttempts
from supportpin.products.actions import read_product
from testsupport import (
    START,
    THREADS,
    in_parallel,
    make_customer,
    make_product,
    make_staff,
    queued_emails,
)


@unittest.skipUnless(
    connection.vendor == "postgresql",
    "needs PostgreSQL: SQLite takes one writer at a time, so there is no race to test "
    "(run with DATABASE_URL=postgres://…)",
)
# Seventeen staff per test: a fast hasher keeps set-up from dominating; no test here signs in.
@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
class ConcurrencyTestCase(TransactionTestCase):
    """Committed personas that other threads can see; the tables are emptied after each test."""

    def setUp(self):
        self.now = START
        self.customer = make_customer("C-1001", now=self.now)
        self.other_customer = make_customer("C-2002", now=self.now)
        self.product = make_product("gs-1", self.customer, now=self.now)
        self.second_product = make_product("vs-1", self.customer, now=self.now, type="vserver")
        self.admin = make_staff("ada", "Ada A.", Role.ADMIN, now=self.now)
        self.supporters = [
            make_staff(f"sup{i:02}", f"Supporter {i:02}", Role.SUPPORTER, now=self.now)
            for i in range(THREADS)
        ]
        self.supporter = self.supporters[0]

    def emails_to(self, address: str) -> list[dict]:
        return queued_emails(address)

    def assertChainIntact(self) -> None:
        seal(now=self.now)
        report = verify_log()
        self.assertEqual(report.problems, [])
        self.assertEqual((report.sealed, report.unsealed), (AuditEntry.objects.count(), 0))

    def assertOnlyRaised(self, results: list, kinds: tuple[type[Exception], ...]) -> None:
        unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, kinds)]
        self.assertEqual(unexpected, [], "unexpected errors in threads")


class RedemptionRaceTests(ConcurrencyTestCase):
    def test_it_lets_exactly_one_of_sixteen_supporters_redeem_a_pin(self):
        pin = open_support_pin(customer=self.customer, now=self.now)

        results = in_parallel(
            lambda supporter: redeem_pin(
                supporter=supporter, customer_number="C-1001", pin=pin.pin, now=self.now
            ),
            self.supporters,
        )

        self.assertOnlyRaised(results, (PinInvalid,))
        winners = [r for r in results if not isinstance(r, Exception)]
        self.assertEqual(len(winners), 1, results)
        self.assertTrue(winners[0].created)
        self.assertEqual(sum(isinstance(r, PinInvalid) for r in results), THREADS - 1)
        grant = Grant.objects.get(customer=self.customer)
        self.assertEqual(grant.pk, winners[0].grant.pk)
        pin.refresh_from_db()
        self.assertEqual(pin.redeemed_by_id, grant.supporter_id)
        # The right PIN in the hands of a loser is not a guess: nobody is any closer to a block.
        self.assertEqual(PinAttempt.objects.count(), 0)
        self.assertEqual(pin.failed_attempts, 0)
        self.assertEqual(len(self.emails_to("mail-pdxc-1001@marker.example")), 1)
        self.assertEqual(AuditEntry.objects.filter(event=Event.PIN_REDEEMED).count(), 1)
        self.assertChainIntact()

    def test_it_gives_one_supporter_redeeming_eight_times_at_once_one_grant(self):
        pin = open_support_pin(customer=self.customer, now=self.now)

        results = in_parallel(
            lambda _: redeem_pin(
                supporter=self.supporter, customer_number="C-1001", pin=pin.pin, now=self.now
            ),
            range(8),
        )

        self.assertOnlyRaised(results, ())
        self.assertEqual(sorted(r.created for r in results), [False] * 7 + [True])
        self.assertEqual({r.grant.pk for r in results}, {Grant.objects.get().pk})
        self.assertEqual(len(self.emails_to("mail-pdxc-1001@marker.example")), 1)
        self.assertChainIntact()

    def test_it_answers_sixteen_parallel_redemptions_over_http_with_one_201(self):
        pin = open_support_pin(customer=self.customer, now=self.now)
        tokens = [
            issue_token(now=self.now, hours=12, role=Role.SUPPORTER, staff=s).token
            for s in self.supporters
        ]

        def redeem_over_http(token: str):
            return Client().post(
                "/api/v1/support/pin-redemptions",
                {"customer": "C-1001", "pin": f"{pin.pin[:3]} {pin.pin[3:]}"},
                content_type="application/json",
                headers={"Authorization": f"Bearer {token}"},
            )

        with time_machine.travel(self.now + timedelta(minutes=1), tick=False):
            responses = in_parallel(redeem_over_http, tokens)

        self.assertOnlyRaised(responses, ())
        statuses = Counter(r.status_code for r in responses)
        self.assertEqual(statuses, {201: 1, 403: THREADS - 1}, [r.content for r in responses])
        codes = {r.json()["code"] for r in responses if r.status_code == 403}
        self.assertEqual(codes, {"pin_invalid"})
        self.assertEqual(Grant.objects.count(), 1)
        self.assertChainIntact()


@override_settings(SUPPORTPIN_PIN_MAX_FAILURES=5, SUPPORTPIN_SUPPORTER_MAX_FAILURES=10)
class GuessingRaceTests(ConcurrencyTestCase):
    def test_it_counts_every_one_of_sixteen_parallel_wrong_guesses_against_a_pin(self):
        pin = open_support_pin(customer=self.customer, now=self.now)
        wrong = str((int(pin.pin) + 1) % 10**pin.length).zfill(pin.length)

        results = in_parallel(
            lambda supporter: redeem_pin(
                supporter=supporter, customer_number="C-1001", pin=wrong, now=self.now
            ),
            self.supporters,
        )

        self.assertOnlyRaised(results, (PinInvalid,))
        self.assertTrue(all(isinstance(r, PinInvalid) for r in results), results)
        self.assertEqual(PinAttempt.objects.filter(customer_number="C-1001").count(), THREADS)
        pin.refresh_from_db()
        self.assertIsNotNone(pin.ended_at)
        self.assertEqual(pin.end_reason, "too_many_failures")
        # Each of the first five guesses saw the ones before it: no lost or doubled counts.
        self.assertEqual(pin.failed_attempts, 5)
        counted = AuditEntry.objects.filter(event=Event.PIN_ATTEMPT_FAILED, customer="C-1001")
        self.assertEqual(sorted(e.detail["failed_attempts"] for e in counted), [1, 2, 3, 4, 5])
        locked = [
            m for m in self.emails_to("mail-pdxc-1001@marker.example") if "gesperrt" in m["subject"]
        ]
        self.assertEqual(len(locked), 1)
        self.assertEqual(SupportPin.objects.filter(ended_at__isnull=True).count(), 0)
        self.assertNotEqual(open_support_pin(customer=self.customer, now=self.now).pk, pin.pk)
        self.assertChainIntact()

    def test_it_blocks_one_supporter_guessing_sixteen_times_at_once_after_ten(self):
        pin = open_support_pin(customer=self.customer, now=self.now)
        wrong = str((int(pin.pin) + 1) % 10**pin.length).zfill(pin.length)

        results = in_parallel(
            lambda _: redeem_pin(
                supporter=self.supporter, customer_number="C-1001", pin=wrong, now=self.now
            ),
            range(THREADS),
        )

        self.assertOnlyRaised(results, (PinInvalid, TooManyAttempts))
        kinds = Counter(type(r).__name__ for r in results)
        # Ten guesses are counted; the block stops the other six before they count.
        self.assertEqual(kinds, {"PinInvalid": 10, "TooManyAttempts": THREADS - 10})
        self.assertEqual(PinAttempt.objects.filter(supporter=self.supporter).count(), 10)
        self.supporter.refresh_from_db()
        self.assertIsNotNone(self.supporter.blocked_at)
        blocked = [m for m in self.emails_to("ada@staff.example") if "blocked" in m["subject"]]
        self.assertEqual(len(blocked), 1)
        self.assertEqual(AuditEntry.objects.filter(event=Event.SUPPORTER_BLOCKED).count(), 1)
        with self.assertRaises(TooManyAttempts):
            redeem_pin(
                supporter=self.supporter,
                customer_number="C-1001",
                pin=open_support_pin(customer=self.customer, now=self.now).pin,
                now=self.now,
            )
        self.assertChainIntact()


class SupportButtonRaceTests(ConcurrencyTestCase):
    def test_it_shows_every_tab_of_two_customers_opening_support_at_once_one_pin_each(self):
        tabs = [self.customer, self.other_customer] * 8

        results = in_parallel(lambda c: open_support_pin(customer=c, now=self.now), tabs)

        self.assertOnlyRaised(results, ())
        for customer in (self.customer, self.other_customer):
            seen = {r.pin for r, c in zip(results, tabs, strict=True) if c == customer}
            self.assertEqual(len(seen), 1, seen)
            live = SupportPin.objects.filter(customer=customer, ended_at__isnull=True)
            self.assertEqual([p.pin for p in live], list(seen))
            issued = AuditEntry.objects.filter(event=Event.PIN_ISSUED, customer=customer.pk)
            self.assertEqual(issued.count(), 1)
        self.assertEqual(SupportPin.objects.count(), 2)
        self.assertChainIntact()


class AuditAppendRaceTests(ConcurrencyTestCase):
    def test_it_records_sixteen_parallel_reads_each_once(self):
        pin = open_support_pin(customer=self.customer, now=self.now)
        redeem_pin(supporter=self.supporter, customer_number="C-1001", pin=pin.pin, now=self.now)
        products = ["gs-1", "vs-1"] * (THREADS // 2)

        results = in_parallel(
            lambda product_id: read_product(
                supporter=self.supporter, product_id=product_id, now=self.now
            ),
            products,
        )

        self.assertOnlyRaised(results, ())
        self.assertEqual(sorted(r.pk for r in results), sorted(products))
        reads = AuditEntry.objects.filter(event=Event.PRODUCT_READ)
        self.assertEqual(Counter(reads.values_list("product", flat=True)), Counter(products))
        self.assertChainIntact()

    def test_it_seals_an_entry_committed_late_in_the_next_round(self):
        seal(now=self.now)
        opened, sealed_once = threading.Event(), threading.Event()

        def long_transaction(_):
            with transaction.atomic():
                record(**self.read_by("Slow S."))
                opened.set()
                # Commit only after a later entry was sealed past this one's id.
                sealed_once.wait(timeout=30)

        def meanwhile(_):
            opened.wait(timeout=30)
            record(**self.read_by("Quick Q."))
            seal(now=self.now)
            sealed_once.set()

        self.assertOnlyRaised(in_parallel(lambda f: f(None), [long_transaction, meanwhile]), ())
        slow = AuditEntry.objects.get(actor="Slow S.")
        quick = AuditEntry.objects.get(actor="Quick Q.")
        self.assertLess(slow.id, quick.id)
        self.assertIsNone(slow.leaf_index)

        seal(now=self.now)
        slow.refresh_from_db()
        self.assertEqual(slow.leaf_index, quick.leaf_index + 1)
        self.assertChainIntact()

    def read_by(self, actor: str) -> dict:
        return {
            "event": Event.PRODUCT_READ,
            "at": self.now,
            "actor_kind": ActorKind.SUPPORTER,
            "actor": actor,
            "customer": "C-1001",
            "product": "gs-1",
        }

    def test_it_loses_and_duplicates_no_entry_when_sealing_while_sixteen_writers_append(self):
        per_writer = 40
        writers_done = threading.Event()

        def append(writer: int) -> None:
            for n in range(per_writer):
                # Each in its own transaction, some of them held open while others commit.
                with transaction.atomic():
                    record(
                        event=Event.PRODUCT_READ,
                        at=self.now,
                        actor_kind=ActorKind.SUPPORTER,
                        actor=f"Supporter {writer:02}",
                        customer="C-1001",
                        product="gs-1",
                        detail={"writer": writer, "n": n},
                    )
                    if n % 7 == 0:
                        time.sleep(0.005)

        def work(role):
            if role != "sealer":
                try:
                    return append(role)
                finally:
                    finished.append(role)
                    if len(finished) == THREADS:
                        writers_done.set()
            rounds = 0
            while not writers_done.is_set():
                rounds += bool(seal(now=self.now))
            return rounds

        finished: list[int] = []
        results = in_parallel(work, [*range(THREADS), "sealer"])

        self.assertOnlyRaised(results, ())
        self.assertGreater(results[-1], 1, "the sealer sealed while the writers appended")
        seal(now=self.now)
        written = AuditEntry.objects.filter(event=Event.PRODUCT_READ)
        pairs = Counter((e.detail["writer"], e.detail["n"]) for e in written)
        self.assertEqual(len(pairs), THREADS * per_writer)
        self.assertEqual(set(pairs.values()), {1})
        indexes = sorted(AuditEntry.objects.values_list("leaf_index", flat=True))
        self.assertEqual(indexes, list(range(AuditEntry.objects.count())))
        self.assertChainIntact()
