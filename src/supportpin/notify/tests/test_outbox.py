import hashlib
import hmac
import json
import socket
import threading
import time
import unittest
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from unittest import mock

from django.core import mail
from django.core.mail.backends import locmem
from django.core.management import call_command
from django.db import OperationalError, connection, transaction
from django.db.models import QuerySet
from django.test import SimpleTestCase, TransactionTestCase, override_settings

from supportpin.accounts.models import Role
from supportpin.lib import clock
from supportpin.notify.actions import batched_messages, queue_email, queue_webhook
from supportpin.notify.models import Kind, OutboxMessage
from supportpin.notify.outbox import send_due
from testsupport import START, SupportPinTestCase, in_parallel, make_staff

SECRET = "webhook-test-secret"


def unused_port() -> int:
    """A localhost port nothing listens on (bound once by us, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class WebhookReceiver:
    """A tiny HTTP server on a free local port that records requests and answers `status`."""

    def __init__(self, status: int = 200, delay: float = 0):
        self.status = status
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(delay)
                receiver.requests.append({"headers": self.headers, "body": body})
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/support-pin"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


# What a SlowEmailBackend send does before it delivers; set by the test that uses it.
DURING_SEND: list[Callable[[], None]] = []
SLOW_EMAIL_BACKEND = "supportpin.notify.tests.test_outbox.SlowEmailBackend"


class SlowEmailBackend(locmem.EmailBackend):
    """The test outbox, reached only after DURING_SEND has run (time passing, another worker)."""

    def send_messages(self, email_messages):
        for step in DURING_SEND:
            step()
        return super().send_messages(email_messages)


class OutboxTests(SupportPinTestCase):
    def run_worker(self) -> None:
        """Run the outbox part of a worker pass."""
        send_due(now=clock.now())

    def at(self, **delta) -> datetime:
        return START + timedelta(**delta)

    def queue_two_emails(self) -> None:
        """A redemption mail to the customer and a "PIN locked" mail to the other customer."""
        self.assertEqual(self.redeem(self.current_pin()).status_code, 201)
        other_pin = self.current_pin(self.other_customer)
        for _ in range(5):
            response = self.redeem(
                self.wrong_pin(other_pin), supporter=self.other_supporter, customer="C-2002"
            )
            self.assertProblem(response, 403, "pin_invalid")

    # --- e-mail -----------------------------------------------------------------------------

    def test_it_sends_each_queued_email_exactly_once(self):
        self.queue_two_emails()
        self.assertEqual(mail.outbox, [])

        self.run_worker()

        recipients = sorted(tuple(m.to) for m in mail.outbox)
        self.assertEqual(
            recipients,
            [("mail-pdxc-1001@marker.example",), ("mail-pdxc-2002@marker.example",)],
        )
        redeemed = next(m for m in mail.outbox if m.to == ["mail-pdxc-1001@marker.example"])
        # Rendered from its template when sent: in the customer's language, with the times of
        # the redemption (09:00 UTC) and the PIN's end in the web UI's zone.
        self.assertEqual(redeemed.subject, "Ein Supporter hat Ihre Support-PIN eingelöst")
        self.assertIn(
            "Sam S. hat um 10:00 CET Ihre Support-PIN eingelöst und kann bis 11:00 CET",
            redeemed.body,
        )
        self.travel_to(self.at(minutes=30))
        self.run_worker()
        self.assertEqual(len(mail.outbox), 2)

    def test_it_keeps_an_email_queued_while_the_mail_server_is_down(self):
        self.redeem(self.current_pin())
        refused = ConnectionRefusedError(111, "Connection refused")

        with mock.patch("supportpin.notify.delivery.EmailMessage.send", side_effect=refused):
            self.run_worker()

        self.assertEqual(mail.outbox, [])
        message = OutboxMessage.objects.get(kind=Kind.EMAIL)
        self.assertIsNone(message.sent_at)
        self.assertIsNone(message.failed_at)
        self.assertEqual(message.attempts, 1)
        self.assertIn("Connection refused", message.last_error)

        # Still down on the next try: the wait between tries grows.
        self.travel_to(self.at(seconds=30))
        with mock.patch("supportpin.notify.delivery.EmailMessage.send", side_effect=refused):
            self.run_worker()
        message.refresh_from_db()
        self.assertEqual(message.attempts, 2)

        # The server is back, but the message waits out its backoff (60 s after try 2).
        self.travel_to(self.at(seconds=89))
        self.run_worker()
        self.assertEqual(mail.outbox, [])
        self.travel_to(self.at(seconds=90))
        self.run_worker()
        self.assertEqual(len(mail.outbox), 1)
        self.assertEqual(mail.outbox[0].to, ["mail-pdxc-1001@marker.example"])
        message.refresh_from_db()
        self.assertEqual((message.attempts, message.sent_at), (3, self.at(seconds=90)))
        self.assertEqual(message.last_error, "")

    @override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=unused_port(),
        EMAIL_TIMEOUT=2,
        EMAIL_USE_TLS=False,
        EMAIL_USE_SSL=False,
    )
    def test_it_loses_nothing_against_a_real_smtp_backend_that_is_down(self):
        self.redeem(self.current_pin())

        self.run_worker()

        message = OutboxMessage.objects.get(kind=Kind.EMAIL)
        self.assertEqual((message.attempts, message.sent_at), (1, None))
        self.assertNotEqual(message.last_error, "")

    def test_it_delivers_the_blocked_mail_for_a_display_name_with_a_line_break(self):
        eve = make_staff("eve", "Eve\nBcc: victim@example.org", Role.SUPPORTER, now=START)
        for customer in (self.customer, self.other_customer):
            for _ in range(5):
                pin = self.wrong_pin(self.current_pin(customer))
                self.redeem(pin, supporter=eve, customer=customer.pk)

        self.run_worker()

        [blocked] = [m for m in mail.outbox if "blocked" in m.subject]
        self.assertEqual(blocked.to, ["ada@staff.example"])
        self.assertEqual(
            blocked.subject, "Support-PIN: Eve Bcc: victim@example.org blocked after 10 wrong PINs"
        )
        self.assertEqual(blocked.bcc, [])
        self.assertIsNotNone(OutboxMessage.objects.get(payload__to=blocked.to).sent_at)

    # --- product-action webhooks ------------------------------------------------------------

    def receiver(self, status: int = 200) -> WebhookReceiver:
        receiver = WebhookReceiver(status)
        self.addCleanup(receiver.close)
        return receiver

    def restart_gs1(self) -> dict:
        grant = self.redeem(self.current_pin()).json()
        response = self.post(
            "/support/products/gs-1/actions", {"action": "restart"}, self.token_for(self.supporter)
        )
        self.assertEqual(response.status_code, 202, response.content)
        return grant

    def assertSignedAt(self, request: dict, attempt_at: datetime) -> None:
        """Check the signing headers as a receiver would, with the documented HMAC."""
        headers = request["headers"]
        self.assertEqual(headers["X-SupportPIN-Timestamp"], attempt_at.isoformat())
        self.assertEqual(datetime.fromisoformat(headers["X-SupportPIN-Timestamp"]), attempt_at)
        signed = headers["X-SupportPIN-Timestamp"].encode() + b"." + request["body"]
        expected = hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
        self.assertEqual(headers["X-SupportPIN-Signature"], f"sha256={expected}")

    def test_it_delivers_a_signed_product_action_webhook(self):
        receiver = self.receiver()
        grant = self.restart_gs1()
        self.travel_to(self.at(minutes=2))

        with override_settings(
            SUPPORTPIN_ACTION_WEBHOOK_URL=receiver.url, SUPPORTPIN_ACTION_WEBHOOK_SECRET=SECRET
        ):
            self.run_worker()

        self.assertEqual(len(receiver.requests), 1)
        request = receiver.requests[0]
        self.assertEqual(
            json.loads(request["body"]),
            {
                "event": "product_action",
                "action": "restart",
                "product": "gs-1",
                "customer": "C-1001",
                "supporter": "sam",
                "basis": "pin",
                "grant_id": grant["id"],
                "at": START.isoformat(),
            },
        )
        self.assertEqual(request["headers"]["Content-Type"], "application/json")
        message = OutboxMessage.objects.get(kind=Kind.WEBHOOK)
        self.assertEqual(request["headers"]["X-SupportPIN-Delivery"], str(message.pk))
        # Signed at the time of sending, not at the time of the action.
        self.assertSignedAt(request, self.at(minutes=2))

        with override_settings(
            SUPPORTPIN_ACTION_WEBHOOK_URL=receiver.url, SUPPORTPIN_ACTION_WEBHOOK_SECRET=SECRET
        ):
            self.travel_to(self.at(minutes=10))
            self.run_worker()
        self.assertEqual(len(receiver.requests), 1)

    def test_it_signs_with_the_configured_secret_and_no_other(self):
        receiver = self.receiver()
        self.restart_gs1()

        with override_settings(
            SUPPORTPIN_ACTION_WEBHOOK_URL=receiver.url,
            SUPPORTPIN_ACTION_WEBHOOK_SECRET="another-secret",
        ):
            self.run_worker()

        headers = receiver.requests[0]["headers"]
        signed = headers["X-SupportPIN-Timestamp"].encode() + b"." + receiver.requests[0]["body"]
        forged = hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
        self.assertNotEqual(headers["X-SupportPIN-Signature"], f"sha256={forged}")

    def test_it_retries_a_webhook_until_the_receiver_answers_2xx(self):
        receiver = self.receiver(status=500)
        self.restart_gs1()
        webhook_settings = override_settings(
            SUPPORTPIN_ACTION_WEBHOOK_URL=receiver.url, SUPPORTPIN_ACTION_WEBHOOK_SECRET=SECRET
        )

        with webhook_settings:
            self.run_worker()
            message = OutboxMessage.objects.get(kind=Kind.WEBHOOK)
            self.assertEqual((message.attempts, message.sent_at), (1, None))
            self.assertIn("500", message.last_error)

            receiver.status = 204
            self.travel_to(self.at(seconds=29))
            self.run_worker()
            self.assertEqual(len(receiver.requests), 1)  # still backing off
            self.travel_to(self.at(seconds=30))
            self.run_worker()

        self.assertEqual(len(receiver.requests), 2)
        first, retry = receiver.requests
        self.assertEqual(first["body"], retry["body"])
        self.assertEqual(
            first["headers"]["X-SupportPIN-Delivery"], retry["headers"]["X-SupportPIN-Delivery"]
        )
        # The retry carries its own time, so a receiver that rejects old timestamps takes it.
        self.assertSignedAt(first, START)
        self.assertSignedAt(retry, self.at(seconds=30))
        message.refresh_from_db()
        self.assertEqual((message.attempts, message.sent_at), (2, self.at(seconds=30)))

    def test_it_signs_a_retry_hours_after_the_action_with_the_retry_time(self):
        receiver = self.receiver()
        self.restart_gs1()
        self.travel_to(self.at(hours=3))

        with override_settings(
            SUPPORTPIN_ACTION_WEBHOOK_URL=receiver.url, SUPPORTPIN_ACTION_WEBHOOK_SECRET=SECRET
        ):
            self.run_worker()

        self.assertSignedAt(receiver.requests[0], self.at(hours=3))

    def test_it_sends_nothing_while_no_secret_is_set(self):
        receiver = self.receiver()
        self.restart_gs1()

        with override_settings(
            SUPPORTPIN_ACTION_WEBHOOK_URL=receiver.url, SUPPORTPIN_ACTION_WEBHOOK_SECRET=""
        ):
            self.run_worker()

        self.assertEqual(receiver.requests, [])
        message = OutboxMessage.objects.get(kind=Kind.WEBHOOK)
        self.assertEqual((message.sent_at, message.attempts), (None, 1))
        self.assertIn("SUPPORTPIN_ACTION_WEBHOOK_SECRET is not set", message.last_error)

        self.travel_to(self.at(minutes=5))
        with override_settings(
            SUPPORTPIN_ACTION_WEBHOOK_URL=receiver.url, SUPPORTPIN_ACTION_WEBHOOK_SECRET=SECRET
        ):
            self.run_worker()
        self.assertEqual(len(receiver.requests), 1)
        self.assertSignedAt(receiver.requests[0], self.at(minutes=5))

    @override_settings(SUPPORTPIN_ACTION_WEBHOOK_URL="", SUPPORTPIN_ACTION_WEBHOOK_SECRET=SECRET)
    def test_it_keeps_webhooks_queued_while_no_url_is_set(self):
        self.restart_gs1()

        self.run_worker()

        message = OutboxMessage.objects.get(kind=Kind.WEBHOOK)
        self.assertIsNone(message.sent_at)
        self.assertIsNone(message.failed_at)
        self.assertIn("SUPPORTPIN_ACTION_WEBHOOK_URL", message.last_error)
        receiver = self.receiver()
        self.travel_to(self.at(minutes=5))
        with override_settings(SUPPORTPIN_ACTION_WEBHOOK_URL=receiver.url):
            self.run_worker()
        self.assertEqual(len(receiver.requests), 1)
        message.refresh_from_db()
        self.assertIsNotNone(message.sent_at)

    # --- leases -----------------------------------------------------------------------------

    def during_send(self, step: Callable[[], None]) -> None:
        DURING_SEND.append(step)
        self.addCleanup(DURING_SEND.clear)

    def queue_mails(self, count: int) -> list[str]:
        subjects = [f"mail {n}" for n in range(count)]
        for subject in subjects:
            queue_email(to=["admin@provider.example"], subject=subject, body="-", now=clock.now())
        return subjects

    @override_settings(EMAIL_BACKEND=SLOW_EMAIL_BACKEND)
    def test_it_sends_a_batch_that_outlasts_the_lease_once_beside_a_second_worker(self):
        subjects = self.queue_mails(40)
        sends = 0

        def ten_seconds_then_a_second_worker_after_six_minutes() -> None:
            nonlocal sends
            sends += 1
            self.travel_to(clock.now() + timedelta(seconds=10))
            if sends == 36:
                send_due(now=clock.now())

        self.during_send(ten_seconds_then_a_second_worker_after_six_minutes)

        send_due(now=clock.now())

        self.assertEqual(Counter(m.subject for m in mail.outbox), Counter(subjects))
        self.assertFalse(OutboxMessage.objects.filter(sent_at__isnull=True).exists())

    @override_settings(EMAIL_BACKEND=SLOW_EMAIL_BACKEND)
    def test_it_leaves_the_record_to_the_worker_that_took_over_an_expired_lease(self):
        self.queue_mails(1)
        taken_over_at = self.at(minutes=5, seconds=1)  # the 5-minute lease has run out

        def stall_past_the_lease_then_fail() -> None:
            if clock.now() == START:
                self.travel_to(taken_over_at)
                self.assertEqual(send_due(now=clock.now()), (1, 0))
                raise ConnectionResetError("the first worker's send broke late")

        self.during_send(stall_past_the_lease_then_fail)

        self.assertEqual(send_due(now=clock.now()), (0, 1))

        self.assertEqual(len(mail.outbox), 1)
        message = OutboxMessage.objects.get()
        self.assertEqual((message.sent_at, message.failed_at), (taken_over_at, None))
        self.assertEqual((message.attempts, message.last_error), (1, ""))
        self.travel_to(self.at(minutes=30))
        send_due(now=clock.now())
        self.assertEqual(len(mail.outbox), 1)

    def database_restarting_while_a_send_is_written_down(self, failures: int):
        """Fail the first `failures` writes of a send as a PostgreSQL restart would; the
        worker's pauses pass on a clock of their own, without sleeping."""
        real_update = QuerySet.update
        outage = [OperationalError("terminating connection due to administrator command")]
        outage *= failures
        waited = []

        def update(queryset, **fields):
            if "sent_at" in fields and outage:
                raise outage.pop()
            return real_update(queryset, **fields)

        fake_time = mock.Mock(monotonic=lambda: sum(waited), sleep=waited.append)
        return mock.patch.multiple(
            "supportpin.notify.outbox",
            time=fake_time,
            # The test's own transaction holds this session; a real restart would have ended it.
            connection=mock.Mock(),
        ), mock.patch.object(QuerySet, "update", update)

    def test_it_writes_a_send_down_once_the_database_is_back_and_sends_it_only_once(self):
        self.queue_mails(1)
        module, update = self.database_restarting_while_a_send_is_written_down(failures=3)
        with module, update:
            self.assertEqual(send_due(now=clock.now()), (1, 0))

        message = OutboxMessage.objects.get()
        self.assertEqual((message.sent_at, message.attempts), (START, 1))
        self.travel_to(self.at(minutes=30))
        send_due(now=clock.now())
        self.assertEqual(len(mail.outbox), 1)

    def test_it_stops_waiting_for_the_database_when_the_lease_runs_out(self):
        self.queue_mails(1)
        module, update = self.database_restarting_while_a_send_is_written_down(failures=1000)
        with module, update, self.assertRaises(OperationalError):
            send_due(now=clock.now())

        # Unrecorded, the send is due again when its lease has run out: at least once.
        self.travel_to(self.at(minutes=5, seconds=1))
        self.assertEqual(send_due(now=clock.now()), (1, 0))
        self.assertEqual(len(mail.outbox), 2)

    def test_it_gives_up_on_a_mail_server_that_never_answers_within_the_lease(self):
        self.queue_mails(1)
        silent = socket.create_server(("127.0.0.1", 0))  # accepts connections, never greets
        # On a send without a timeout, closing the listener is what would end the wait.
        watchdog = threading.Timer(60, silent.close)
        watchdog.start()
        self.addCleanup(watchdog.cancel)
        self.addCleanup(silent.close)

        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=silent.getsockname()[1],
            EMAIL_USE_TLS=False,
            EMAIL_USE_SSL=False,
        ):
            self.assertEqual(send_due(now=clock.now()), (0, 1))

        message = OutboxMessage.objects.get()
        self.assertIn("timed out", message.last_error)
        self.assertIsNone(message.sent_at)


class BatchedMessageTests(SupportPinTestCase):
    """An action that queues several messages inserts them together."""

    def queue_two(self):
        queue_webhook(payload={"event": "first"}, now=START)
        queue_email(to=["ops@provider.example"], subject="Second", body="Body", now=START)

    def test_it_queues_the_batch_with_one_insert_and_sends_all_of_it(self):
        # savepoint, one INSERT of both messages, release
        with self.assertNumQueries(3), batched_messages():
            self.queue_two()

        queued = OutboxMessage.objects.filter(sent_at__isnull=True).order_by("id")
        self.assertEqual([m.kind for m in queued], [Kind.WEBHOOK, Kind.EMAIL])
        with override_settings(SUPPORTPIN_ACTION_WEBHOOK_URL=""):
            send_due(now=START)
        self.assertEqual([m.subject for m in mail.outbox], ["Second"])

    def test_it_queues_nothing_when_the_batch_fails(self):
        before = OutboxMessage.objects.count()
        with self.assertRaises(RuntimeError), batched_messages():
            self.queue_two()
            raise RuntimeError("the action failed half-way")

        self.assertEqual(OutboxMessage.objects.count(), before)


@unittest.skipUnless(
    connection.vendor == "postgresql",
    "needs PostgreSQL: SQLite takes one writer at a time (run with DATABASE_URL=postgres://…)",
)
class OutboxRaceTests(TransactionTestCase):
    @override_settings(SUPPORTPIN_OUTBOX_LEASE_SECONDS=1, SUPPORTPIN_ACTION_WEBHOOK_SECRET=SECRET)
    def test_it_delivers_each_webhook_once_when_two_workers_outlast_the_lease(self):
        receiver = WebhookReceiver(delay=0.3)
        self.addCleanup(receiver.close)
        with transaction.atomic():
            for n in range(8):
                queue_webhook(payload={"event": "product_action", "n": n}, now=clock.now())

        with override_settings(SUPPORTPIN_ACTION_WEBHOOK_URL=receiver.url):
            results = in_parallel(lambda _: send_due(now=clock.now()), range(2))

        # Each worker's batch takes longer than the 1 s lease; no message is sent twice.
        self.assertEqual(sum(sent for sent, _ in results), 8)
        deliveries = Counter(r["headers"]["X-SupportPIN-Delivery"] for r in receiver.requests)
        self.assertEqual(len(deliveries), 8)
        self.assertEqual(set(deliveries.values()), {1})
        self.assertFalse(OutboxMessage.objects.filter(sent_at__isnull=True).exists())


class DeployCheckTests(SimpleTestCase):
    def deploy_warnings(self) -> list[str]:
        out = StringIO()
        call_command("check", "--deploy", "--fail-level", "CRITICAL", stdout=out, stderr=out)
        return [line for line in out.getvalue().splitlines() if "notify." in line]

    @override_settings(SUPPORTPIN_ACTION_WEBHOOK_URL="https://backend.example/hooks")
    def test_it_warns_when_webhooks_have_a_url_but_no_secret(self):
        with override_settings(SUPPORTPIN_ACTION_WEBHOOK_SECRET=""):
            warnings = self.deploy_warnings()
        self.assertEqual(len(warnings), 1)
        self.assertIn("SUPPORTPIN_ACTION_WEBHOOK_SECRET", warnings[0])

        with override_settings(SUPPORTPIN_ACTION_WEBHOOK_SECRET=SECRET):
            self.assertEqual(self.deploy_warnings(), [])

    @override_settings(
        SUPPORTPIN_EVENTS_WEBHOOK_URL="https://backend.example/grants",
        SUPPORTPIN_EVENTS_WEBHOOK_SECRET="",
    )
    def test_it_warns_when_grant_events_have_a_url_but_no_secret(self):
        warnings = self.deploy_warnings()

        self.assertEqual(len(warnings), 1)
        self.assertIn("notify.W002", warnings[0])
        self.assertIn("SUPPORTPIN_EVENTS_WEBHOOK_SECRET", warnings[0])

    @override_settings(
        SUPPORTPIN_ACTION_WEBHOOK_URL="",
        SUPPORTPIN_ACTION_WEBHOOK_SECRET="",
        SUPPORTPIN_EVENTS_WEBHOOK_URL="",
        SUPPORTPIN_EVENTS_WEBHOOK_SECRET="",
    )
    def test_it_does_not_warn_when_no_webhook_is_configured(self):
        self.assertEqual(self.deploy_warnings(), [])
