"""The PIN paths racing each other over HTTP: every path takes its row locks in one order
(docs/architecture.md, "Lock order"), so PostgreSQL never breaks a deadlock with a 500, and a
blocked supporter waits for no lock (PostgreSQL only)."""

import json
import threading
from collections import Counter
from datetime import timedelta
from functools import partial

import time_machine
from django.db import connection, transaction
from django.test import Client, override_settings

from supportpin.access.actions import open_support_pin, rotate_pin
from supportpin.access.models import Grant
from supportpin.access.tests.test_concurrency import ConcurrencyTestCase
from supportpin.accounts.actions import create_api_key, issue_token
from supportpin.accounts.models import Role, Staff
from testsupport import in_parallel

TRIALS = 40


class PinLockOrderTests(ConcurrencyTestCase):
    def setUp(self):
        super().setUp()
        self.supporter_token = issue_token(
            now=self.now, hours=12, role=Role.SUPPORTER, staff=self.supporter
        ).token
        self.customer_token = issue_token(
            now=self.now, hours=24, role="customer", customer=self.customer
        ).token
        self.api_key = create_api_key(name="panel", now=self.now)
        # Within every PIN's lifetime, so each trial's redemption is a real one.
        traveller = time_machine.travel(self.now + timedelta(minutes=1), tick=False)
        traveller.start()
        self.addCleanup(traveller.stop)

    def request(self, method: str, path: str, token: str, body: dict | None = None):
        # A 500 must come back as a response to count, not as an exception in the thread.
        return Client(raise_request_exception=False).generic(
            method,
            f"/api/v1{path}",
            data="" if body is None else json.dumps(body),
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )

    def redeem(self, pin: str):
        body = {"customer": "C-1001", "pin": pin}
        return self.request("POST", "/support/pin-redemptions", self.supporter_token, body)

    def race(self, customer_request: tuple[str, str]) -> list[tuple]:
        """Race a fresh PIN's redemption against the customer's request, TRIALS times."""
        trials = []
        for _ in range(TRIALS):
            pin = rotate_pin(customer=self.customer, now=self.now).pin
            redemption, answer = in_parallel(
                lambda send: send(),
                [
                    partial(self.redeem, pin),
                    partial(self.request, *customer_request, self.customer_token),
                ],
            )
            trials.append((pin, redemption, answer))
        return trials

    def assertNoServerErrors(self, trials: list[tuple]) -> None:
        responses = [r for _, redemption, answer in trials for r in (redemption, answer)]
        self.assertEqual([r for r in responses if isinstance(r, Exception)], [])
        failed = [r.content for r in responses if r.status_code >= 500]
        self.assertEqual(failed, [], f"{len(failed)} of {2 * TRIALS} requests failed")

    def test_it_answers_redemptions_racing_the_support_panel_without_a_server_error(self):
        trials = self.race(("GET", "/me/support-pin"))

        self.assertNoServerErrors(trials)
        for pin, redemption, panel in trials:
            self.assertEqual(redemption.status_code, 201, redemption.content)
            self.assertEqual((panel.status_code, panel.json()["pin"]), (200, pin))
        self.assertEqual(Grant.objects.count(), TRIALS)

    # A redemption that loses to the rotation is a wrong guess; forty must not block anyone.
    @override_settings(SUPPORTPIN_SUPPORTER_MAX_FAILURES=TRIALS + 1)
    def test_it_ends_the_old_pins_grant_whenever_a_racing_rotation_answers(self):
        trials = self.race(("POST", "/me/support-pin/rotate"))

        self.assertNoServerErrors(trials)
        outcomes = Counter(redemption.status_code for _, redemption, _ in trials)
        self.assertLessEqual(set(outcomes), {201, 403}, outcomes)
        for pin, redemption, rotation in trials:
            self.assertEqual(rotation.status_code, 200, rotation.content)
            self.assertNotEqual(rotation.json()["pin"], pin)
            if redemption.status_code == 201:
                grant = Grant.objects.get(pk=redemption.json()["id"])
                self.assertIsNotNone(grant.ended_at, "the rotation left the old grant alive")
        decision = self.request("GET", "/decisions?supporter=sup00&product=gs-1", self.api_key)
        self.assertEqual(decision.json()["allowed"], False)

    def test_it_answers_a_supporter_ending_their_grant_while_the_customer_rotates(self):
        trials = []
        for _ in range(TRIALS):
            pin = rotate_pin(customer=self.customer, now=self.now).pin
            grant_id = self.redeem(pin).json()["id"]
            ending, rotation = in_parallel(
                lambda send: send(),
                [
                    partial(
                        self.request, "DELETE", f"/support/grants/{grant_id}", self.supporter_token
                    ),
                    partial(self.request, "POST", "/me/support-pin/rotate", self.customer_token),
                ],
            )
            trials.append((grant_id, ending, rotation))

        self.assertNoServerErrors(trials)
        for grant_id, ending, rotation in trials:
            # Whoever comes second finds the grant already ended: 404, or the new PIN.
            self.assertIn(ending.status_code, (204, 404), ending.content)
            self.assertEqual(rotation.status_code, 200, rotation.content)
            self.assertIsNotNone(Grant.objects.get(pk=grant_id).ended_at)


class BlockedSupporterTests(ConcurrencyTestCase):
    def test_it_refuses_a_blocked_supporter_without_waiting_for_their_row(self):
        pin = open_support_pin(customer=self.customer, now=self.now).pin
        token = issue_token(now=self.now, hours=12, role=Role.SUPPORTER, staff=self.supporter)
        Staff.objects.filter(pk=self.supporter.pk).update(blocked_at=self.now)
        locked, release = threading.Event(), threading.Event()

        def hold_the_supporters_row():
            # Another request of theirs (or an admin unlocking them) holds the row meanwhile.
            try:
                with transaction.atomic():
                    Staff.objects.select_for_update().get(pk=self.supporter.pk)
                    locked.set()
                    release.wait(timeout=30)
            finally:
                connection.close()

        holder = threading.Thread(target=hold_the_supporters_row)
        holder.start()
        self.addCleanup(holder.join)
        self.addCleanup(release.set)
        locked.wait(timeout=30)
        with connection.cursor() as cursor:
            # Waiting for the row would fail after a second instead of hanging the test.
            cursor.execute("SET lock_timeout = '1s'")
        self.addCleanup(connection.close)

        with time_machine.travel(self.now + timedelta(minutes=1), tick=False):
            response = Client(raise_request_exception=False).post(
                "/api/v1/support/pin-redemptions",
                {"customer": "C-1001", "pin": pin},
                content_type="application/json",
                headers={"Authorization": f"Bearer {token.token}"},
            )

        self.assertEqual(response.status_code, 429, response.content)
        self.assertEqual(response.json()["code"], "too_many_attempts")
