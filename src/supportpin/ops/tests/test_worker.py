"""The worker: one pass over due work, and a loop that survives a database restart."""

import threading
import unittest
from datetime import timedelta
from io import StringIO

from django.core import mail
from django.core.mail.backends import locmem
from django.core.management import call_command
from django.db import OperationalError, connection, transaction
from django.test import TransactionTestCase, override_settings

from supportpin.access.models import SupportPin
from supportpin.lib import clock
from supportpin.notify.actions import queue_email
from supportpin.notify.models import OutboxMessage
from supportpin.ops.worker import PassReport, run_forever
from testsupport import START, SupportPinTestCase

IDLE = PassReport(0, 0, 0, 0, 0, 0, 0, 0, 0)
BUSY = PassReport(0, 0, 0, 0, 0, 1, 0, 0, 0)


class WorkerPassTests(SupportPinTestCase):
    def run_worker(self) -> None:
        call_command("worker", "--once", stdout=StringIO())

    def test_it_materialises_expired_pins(self):
        self.redeem(self.current_pin())
        pin = SupportPin.objects.get(customer=self.customer)

        self.travel_to(START + timedelta(minutes=59, seconds=59))
        self.run_worker()
        pin.refresh_from_db()
        self.assertIsNone(pin.ended_at)

        self.travel_to(START + timedelta(minutes=75))
        self.run_worker()
        pin.refresh_from_db()
        expired_at = START + timedelta(minutes=60)
        self.assertEqual((pin.ended_at, pin.end_reason), (expired_at, "expired"))
        self.assertEqual((pin.grant.ended_at, pin.grant.end_reason), (pin.ended_at, "expired"))
        self.run_worker()
        log = self.get("/me/access-log", self.token_for(self.customer)).json()
        ended = [e for e in log if e["event"] == "pin_deactivated"]
        self.assertEqual([e["detail"]["reason"] for e in ended], ["expired"])


class WorkerLoopTests(TransactionTestCase):
    """The loop's pacing, with passes that fail the way a lost database connection does."""

    # Not TestCase: the loop closes the connection, which would end a test's transaction.

    def run_loop(self, outcomes: list) -> list[float]:
        """Run one loop pass per outcome (a report, or an error to raise); return the sleeps."""
        pending = list(outcomes)
        sleeps: list[float] = []

        def work() -> PassReport:
            outcome = pending.pop(0)
            if isinstance(outcome, Exception):
                raise outcome
            return outcome

        run_forever(interval=5, work=work, sleep=sleeps.append, passes=len(outcomes))
        return sleeps

    def test_it_backs_off_from_one_second_doubling_to_at_most_thirty(self):
        lost = OperationalError("server closed the connection unexpectedly")

        with self.assertLogs("supportpin.ops.worker", "WARNING"):
            sleeps = self.run_loop([lost] * 7 + [IDLE])

        self.assertEqual(sleeps, [1, 2, 4, 8, 16, 30, 30, 5])

    def test_it_starts_the_backoff_afresh_after_a_good_pass(self):
        lost = OperationalError("terminating connection due to administrator command")

        with self.assertLogs("supportpin.ops.worker", "WARNING"):
            sleeps = self.run_loop([lost, lost, BUSY, lost, IDLE])

        # A busy pass goes straight on to the next; an idle one waits the interval.
        self.assertEqual(sleeps, [1, 2, 1, 5])

    def test_it_logs_one_line_per_failed_pass(self):
        lost = OperationalError("server closed the connection unexpectedly\n\tThis probably…")

        with self.assertLogs("supportpin.ops.worker", "WARNING") as logs:
            self.run_loop([lost, lost, IDLE])

        self.assertEqual(len(logs.output), 2)
        self.assertTrue(all("\n" not in line for line in logs.output))
        self.assertIn("retrying in 1 s", logs.output[0])
        self.assertIn("server closed the connection unexpectedly", logs.output[0])

    def test_it_stops_on_an_error_that_is_not_the_database(self):
        with self.assertRaises(KeyError):
            self.run_loop([KeyError("a bug")])


CUT_OFF = threading.Event()


def terminate_backend(pid: int) -> None:
    """Kill database session `pid` from another connection, as a PostgreSQL restart would."""

    def kill() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        finally:
            connection.close()

    killer = threading.Thread(target=kill)
    killer.start()
    killer.join()


class CutOffEmailBackend(locmem.EmailBackend):
    """Deliver to the test outbox, but first kill the sender's database session, once."""

    def send_messages(self, email_messages):
        if not CUT_OFF.is_set():
            CUT_OFF.set()
            connection.ensure_connection()
            terminate_backend(connection.connection.info.backend_pid)
        return super().send_messages(email_messages)


@unittest.skipUnless(
    connection.vendor == "postgresql",
    "needs PostgreSQL: only a server can kill the worker's session (run with DATABASE_URL=…)",
)
@override_settings(EMAIL_BACKEND="supportpin.ops.tests.test_worker.CutOffEmailBackend")
class WorkerOutageTests(TransactionTestCase):
    def setUp(self):
        CUT_OFF.clear()

    def queue(self, subject: str) -> None:
        with transaction.atomic():
            queue_email(to=["admin@provider.example"], subject=subject, body="-", now=clock.now())

    def test_it_writes_a_send_down_after_its_session_is_killed_and_goes_on_delivering(self):
        self.queue("before the restart")
        sleeps: list[float] = []

        def sleep(seconds: float) -> None:
            if not sleeps:
                self.queue("after the restart")
            sleeps.append(seconds)

        def worker() -> None:
            try:
                run_forever(interval=0, sleep=sleep, passes=3)
            finally:
                connection.close()

        with self.assertNoLogs("supportpin.ops.worker", "WARNING"):
            thread = threading.Thread(target=worker)
            thread.start()
            thread.join(timeout=60)

        self.assertFalse(thread.is_alive())
        self.assertTrue(CUT_OFF.is_set())
        # The session died while the first mail went out: the worker wrote the send down on a
        # new one, so that mail is not sent a second time, and the next one went out as well.
        subjects = [m.subject for m in mail.outbox]
        self.assertEqual(sorted(subjects), ["after the restart", "before the restart"])
        self.assertFalse(OutboxMessage.objects.filter(sent_at__isnull=True).exists())
