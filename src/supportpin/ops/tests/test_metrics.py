"""/metrics: closed unless configured; the counters move with what really happens."""

import ipaddress
import os
import subprocess
import sys
import tempfile
from io import StringIO
from unittest import mock

from django.core.management import call_command
from django.test import TransactionTestCase, override_settings
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from supportpin.ops.worker import PassReport, run_forever
from testsupport import SupportPinTestCase

TOKEN = "metrics-test-token-7f3a"
Samples = dict[tuple[str, frozenset], float]


def samples(text: str) -> Samples:
    """Parse an exposition into {(sample name, labels): value}."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@override_settings(SUPPORTPIN_METRICS_TOKEN=TOKEN)
class MetricsTests(SupportPinTestCase):
    def scrape(self) -> Samples:
        response = self.client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        self.assertEqual(response.status_code, 200, response.content)
        self.assertTrue(response["Content-Type"].startswith("text/plain; version=0.0.4"))
        return samples(response.content.decode())

    def moved(self, before: Samples, after: Samples, name: str, **labels: str) -> float:
        key = (name, frozenset(labels.items()))
        return after.get(key, 0.0) - before.get(key, 0.0)

    def test_it_counts_redemptions_wrong_pins_and_their_requests(self):
        pin = self.current_pin()
        before = self.scrape()

        with self.captureOnCommitCallbacks(execute=True):
            self.assertEqual(self.redeem(self.wrong_pin(pin)).status_code, 403)
            self.assertEqual(self.redeem(pin).status_code, 201)
        after = self.scrape()

        self.assertEqual(self.moved(before, after, "supportpin_pin_redemptions_total"), 1)
        self.assertEqual(self.moved(before, after, "supportpin_wrong_pins_total"), 1)
        route = "/api/v1/support/pin-redemptions"
        requests = "supportpin_http_requests_total"
        self.assertEqual(
            self.moved(before, after, requests, method="POST", route=route, status="201"), 1
        )
        self.assertEqual(
            self.moved(before, after, requests, method="POST", route=route, status="403"), 1
        )
        latency = "supportpin_http_request_duration_seconds_count"
        self.assertEqual(self.moved(before, after, latency, method="POST", route=route), 2)

    @override_settings(SUPPORTPIN_SUPPORTER_MAX_FAILURES=2)
    def test_it_counts_a_blocked_supporter(self):
        pin = self.current_pin()
        before = self.scrape()

        with self.captureOnCommitCallbacks(execute=True):
            for _ in range(2):
                self.redeem(self.wrong_pin(pin))
        after = self.scrape()

        self.assertEqual(self.moved(before, after, "supportpin_supporters_blocked_total"), 1)

    def test_it_counts_decisions_by_basis_and_outcome(self):
        sam = self.token_for(self.supporter)
        self.redeem(self.current_pin())
        before = self.scrape()

        self.assertEqual(self.get("/support/products/gs-1", sam).status_code, 200)
        self.assertEqual(self.get("/support/products/gs-2", sam).status_code, 404)
        self.assertEqual(self.get("/support/products/nothing", sam).status_code, 404)
        after = self.scrape()

        decisions = "supportpin_decisions_total"
        self.assertEqual(self.moved(before, after, decisions, basis="pin", outcome="allowed"), 1)
        self.assertEqual(self.moved(before, after, decisions, basis="none", outcome="denied"), 2)

    def test_it_reports_the_outbox_backlog_and_the_worker(self):
        self.redeem(self.current_pin())  # queues the customer's e-mail
        waiting = self.scrape()
        self.assertEqual(waiting[("supportpin_outbox_backlog_messages", frozenset())], 1)

        self.clock.shift(90)
        self.assertEqual(
            self.scrape()[("supportpin_outbox_oldest_waiting_seconds", frozenset())], 90
        )
        call_command("worker", "--once", stdout=StringIO())
        after = self.scrape()

        self.assertEqual(after[("supportpin_outbox_backlog_messages", frozenset())], 0)
        self.assertEqual(after[("supportpin_outbox_oldest_waiting_seconds", frozenset())], 0)
        deliveries = "supportpin_outbox_deliveries_total"
        self.assertEqual(self.moved(waiting, after, deliveries, kind="email", outcome="sent"), 1)

    def test_it_reports_the_entries_no_checkpoint_covers_yet(self):
        self.redeem(self.current_pin())  # the PIN's issue and its redemption: two entries
        before = self.scrape()[("supportpin_log_unsealed_entries", frozenset())]

        call_command("seal", stdout=StringIO())

        self.assertGreaterEqual(before, 2)
        self.assertEqual(self.scrape()[("supportpin_log_unsealed_entries", frozenset())], 0)

    def test_it_names_routes_not_customer_numbers_or_usernames(self):
        sam = self.token_for(self.supporter)
        self.get(f"/support/customers/{self.customer.pk}/products", sam)

        text = self.client.get(
            "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
        ).content.decode()

        self.assertIn('route="/api/v1/support/customers/<number>/products"', text)
        for private in (self.customer.pk, self.supporter.username, "Sam S."):
            self.assertNotIn(private, text)

    def test_it_adds_up_every_process_in_multiprocess_mode(self):
        count_once = "from supportpin.access.metrics import WRONG_PINS; WRONG_PINS.inc()"
        with tempfile.TemporaryDirectory() as directory:
            env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": directory}
            for _ in range(2):  # two gunicorn workers, each with its own file
                subprocess.run([sys.executable, "-c", count_once], env=env, check=True)  # noqa: S603
            with mock.patch.dict(os.environ, {"PROMETHEUS_MULTIPROC_DIR": directory}):
                merged = self.scrape()

        self.assertEqual(merged[("supportpin_wrong_pins_total", frozenset())], 2)
        self.assertIn(("supportpin_outbox_backlog_messages", frozenset()), merged)


class MetricsAccessTests(SupportPinTestCase):
    def test_it_is_closed_until_configured(self):
        self.assertEqual(self.client.get("/metrics").status_code, 403)

    @override_settings(SUPPORTPIN_METRICS_TOKEN=TOKEN)
    def test_it_refuses_a_missing_or_wrong_token(self):
        missing = self.client.get("/metrics")
        wrong = self.client.get("/metrics", headers={"Authorization": "Bearer guess"})
        customer = self.client.get(
            "/metrics", headers={"Authorization": f"Bearer {self.token_for(self.admin)}"}
        )

        for refused in (missing, wrong, customer):
            self.assertEqual(refused.status_code, 401)
            self.assertEqual(refused["WWW-Authenticate"], 'Bearer realm="metrics"')
            self.assertNotIn(b"supportpin_", refused.content)

    @override_settings(SUPPORTPIN_METRICS_ALLOW=[ipaddress.ip_network("10.1.0.0/16")])
    def test_it_admits_only_the_allowed_addresses(self):
        outside = self.client.get("/metrics", REMOTE_ADDR="127.0.0.1")
        inside = self.client.get("/metrics", REMOTE_ADDR="10.1.2.3")

        self.assertEqual(outside.status_code, 403)
        self.assertEqual(inside.status_code, 200)
        self.assertIn(b"supportpin_http_requests_total", inside.content)

    @override_settings(
        SUPPORTPIN_METRICS_TOKEN=TOKEN,
        SUPPORTPIN_METRICS_ALLOW=[ipaddress.ip_network("10.1.0.0/16")],
    )
    def test_it_wants_both_when_both_are_set(self):
        bearer = {"Authorization": f"Bearer {TOKEN}"}

        self.assertEqual(self.client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code, 401)
        outside = self.client.get("/metrics", headers=bearer, REMOTE_ADDR="192.0.2.1")
        self.assertEqual(outside.status_code, 403)
        inside = self.client.get("/metrics", headers=bearer, REMOTE_ADDR="10.1.2.3")
        self.assertEqual(inside.status_code, 200)

    @override_settings(SUPPORTPIN_METRICS_TOKEN=TOKEN, SUPPORTPIN_METRICS=False)
    def test_it_has_no_metrics_when_switched_off(self):
        response = self.client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})

        self.assertEqual(response.status_code, 404)


class WorkerMetricsTests(TransactionTestCase):
    # Not TestCase: the loop closes the connection, which would end a test's transaction.
    def test_it_times_each_pass_and_counts_its_due_rows(self):
        def value(name: str, **labels: str) -> float:
            return REGISTRY.get_sample_value(name, labels) or 0.0

        passes = value("supportpin_worker_pass_duration_seconds_count")
        sent = value("supportpin_worker_due_rows_total", kind="sent")
        expired = value("supportpin_worker_due_rows_total", kind="pins_expired")
        grants = value("supportpin_worker_due_rows_total", kind="ticket_grants_ended")

        with self.assertLogs("supportpin.ops.worker", "INFO") as logs:
            run_forever(
                interval=0,
                work=lambda: PassReport(
                    pins_expired=2,
                    tickets_autoclosed=0,
                    tickets_locked=0,
                    ticket_grants_ended=1,
                    reminders=0,
                    sent=3,
                    failed=0,
                    sealed=0,
                    pruned=0,
                ),
                sleep=lambda _: None,
                passes=2,
            )

        self.assertEqual(value("supportpin_worker_pass_duration_seconds_count") - passes, 2)
        self.assertEqual(value("supportpin_worker_due_rows_total", kind="sent") - sent, 6)
        self.assertEqual(
            value("supportpin_worker_due_rows_total", kind="pins_expired") - expired, 4
        )
        self.assertEqual(
            value("supportpin_worker_due_rows_total", kind="ticket_grants_ended") - grants, 2
        )
        # One structured line per busy pass, fields rather than a sentence.
        lines = [record.msg for record in logs.records]
        self.assertEqual([line["event"] for line in lines], ["worker pass"] * 2)
        self.assertEqual((lines[0]["pins_expired"], lines[0]["sent"]), (2, 3))
