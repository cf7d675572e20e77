"""The worker writes down what time did to tickets, and mails about it exactly once."""

import unittest
from collections import Counter
from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.db import connection
from django.test import TransactionTestCase

from supportpin.accounts.models import Role
from supportpin.audit.actions import seal
from supportpin.audit.models import AuditEntry, Event
from supportpin.audit.verify import verify_log
from supportpin.notify.models import OutboxMessage
from supportpin.tickets import actions
from supportpin.tickets.models import Ticket
from supportpin.tickets.tests.test_lifecycle import CUSTOMER_MAIL, TicketTestCase
from testsupport import (
    START,
    THREADS,
    in_parallel,
    make_customer,
    make_product,
    make_staff,
    queued_emails,
)

DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)


def emails(word: str) -> list[dict]:
    """Every queued e-mail whose subject contains `word` (German: the customer's language)."""
    return [mail for mail in queued_emails() if word in mail["subject"]]


def subjects(word: str) -> list[str]:
    return [e["subject"] for e in emails(word)]


class TicketWorkerTests(TicketTestCase):
    def run_worker(self) -> str:
        out = StringIO()
        call_command("worker", "--once", stdout=out)
        return out.getvalue()

    def answered_ticket(self) -> int:
        tid = self.open_ticket()["id"]
        self.claim(tid)
        self.answer(tid)
        return tid

    def audit(self, event: Event, tid: int) -> list[AuditEntry]:
        return list(AuditEntry.objects.filter(event=event, ticket_id=tid))

    def test_it_reminds_two_days_before_the_auto_close_exactly_once(self):
        tid = self.answered_ticket()

        self.travel_to(START + 12 * DAY - SECOND)
        self.run_worker()
        self.assertEqual(subjects("wird bald geschlossen"), [])

        self.travel_to(START + 12 * DAY)
        self.run_worker()
        self.assertEqual(len(subjects("wird bald geschlossen")), 1)
        (reminder,) = emails("wird bald geschlossen")
        self.assertEqual(reminder["to"], [CUSTOMER_MAIL])
        self.assertIn(f"#{tid}", reminder["subject"])
        # Answered at START (09:00 UTC), closing 14 days later: 10:00 in Berlin, as the UI shows.
        self.assertIn("11.12.2026 10:00 CET", reminder["body"])

        self.travel_to(START + 13 * DAY)
        self.run_worker()
        self.assertEqual(len(subjects("wird bald geschlossen")), 1)
        self.assertEqual(self.customer_view(tid)["status"], "answered")

    def test_it_reminds_an_english_customer_in_english(self):
        body = {"name": "Carla C.", "email": CUSTOMER_MAIL, "language": "en"}
        self.put(f"/customers/{self.customer.pk}", body, self.api_key)
        tid = self.answered_ticket()

        self.travel_to(START + 12 * DAY)
        self.run_worker()

        (reminder,) = emails("closes soon")
        self.assertEqual(reminder["subject"], f"Ticket #{tid} closes soon")
        self.assertIn("closes on 2026-12-11 10:00 CET unless you reply.", reminder["body"])

    def test_it_writes_down_an_auto_close_with_one_audit_entry_and_one_email(self):
        tid = self.answered_ticket()
        self.travel_to(START + 14 * DAY - SECOND)
        self.run_worker()
        self.assertEqual(Ticket.objects.get(pk=tid).status, "answered")
        self.assertEqual(subjects("wurde geschlossen"), [])

        self.travel_to(START + 14 * DAY + timedelta(hours=5))
        self.run_worker()

        ticket = Ticket.objects.get(pk=tid)
        self.assertEqual((ticket.status, ticket.close_reason), ("closed", "inactivity"))
        self.assertEqual(ticket.closed_at, START + 14 * DAY)
        closed = self.audit(Event.TICKET_AUTO_CLOSED, tid)
        self.assertEqual(len(closed), 1)
        self.assertEqual(closed[0].at, START + 14 * DAY)
        self.assertEqual(len(subjects("wurde geschlossen")), 1)
        log = self.get("/me/access-log", self.token_for(self.customer)).json()
        self.assertEqual(log[0]["event"], "ticket_auto_closed")
        self.assertEqual(log[0]["ticket"], tid)
        # The customer was reminded on the way, once.
        self.assertEqual(len(subjects("wird bald geschlossen")), 1)

        self.travel_to(START + 16 * DAY)
        entries, emails = AuditEntry.objects.count(), OutboxMessage.objects.count()
        self.run_worker()

        self.assertEqual(
            (AuditEntry.objects.count(), OutboxMessage.objects.count()), (entries, emails)
        )
        self.assertEqual(verify_log().problems, [])

    def test_it_reminds_nobody_when_the_customer_answered(self):
        tid = self.answered_ticket()
        self.travel_to(START + 5 * DAY)
        self.write(tid)

        self.travel_to(START + 29 * DAY)
        self.run_worker()

        self.assertEqual(subjects("wird bald geschlossen"), [])
        self.assertEqual(subjects("wurde geschlossen"), [])
        self.assertEqual(Ticket.objects.get(pk=tid).status, "open")
        self.assertEqual(self.audit(Event.TICKET_AUTO_CLOSED, tid), [])

    def test_it_counts_the_reminder_from_the_latest_reply(self):
        tid = self.answered_ticket()
        self.travel_to(START + 5 * DAY)
        self.write(tid)
        self.travel_to(START + 6 * DAY)
        self.answer(tid)

        self.travel_to(START + 18 * DAY - SECOND)
        self.run_worker()
        self.assertEqual(subjects("wird bald geschlossen"), [])

        self.travel_to(START + 18 * DAY)
        self.run_worker()
        self.assertEqual(len(subjects("wird bald geschlossen")), 1)

    def test_it_writes_down_a_lock_once(self):
        tid = self.open_ticket()["id"]
        self.claim(tid)
        self.travel_to(START + 30 * DAY - SECOND)
        self.run_worker()
        self.assertIsNone(Ticket.objects.get(pk=tid).locked_at)

        self.travel_to(START + 31 * DAY)
        self.run_worker()

        ticket = Ticket.objects.get(pk=tid)
        self.assertEqual(ticket.locked_at, START + 30 * DAY)
        self.assertEqual(ticket.status, "open")
        locked = self.audit(Event.TICKET_LOCKED, tid)
        self.assertEqual([e.at for e in locked], [START + 30 * DAY])

        self.run_worker()

        self.assertEqual(len(self.audit(Event.TICKET_LOCKED, tid)), 1)
        self.assertEqual(Ticket.objects.get(pk=tid).locked_at, START + 30 * DAY)
        self.assertEqual(self.customer_view(tid)["locked"], True)
        self.assertReachesNothing(self.supporter)

    def test_it_auto_closes_and_locks_a_long_forgotten_ticket_in_one_pass(self):
        tid = self.answered_ticket()

        self.travel_to(START + 40 * DAY)
        self.run_worker()

        ticket = Ticket.objects.get(pk=tid)
        self.assertEqual((ticket.status, ticket.locked_at), ("closed", START + 30 * DAY))
        self.assertEqual(len(self.audit(Event.TICKET_AUTO_CLOSED, tid)), 1)
        self.assertEqual(len(self.audit(Event.TICKET_LOCKED, tid)), 1)
        self.assertEqual(len(subjects("wurde geschlossen")), 1)
        # Past its close it was too late to remind.
        self.assertEqual(subjects("wird bald geschlossen"), [])

    def test_it_leaves_a_ticket_waiting_for_support_open(self):
        tid = self.open_ticket()["id"]
        self.claim(tid)

        self.travel_to(START + 30 * DAY - SECOND)
        self.run_worker()

        self.assertEqual(Ticket.objects.get(pk=tid).status, "open")
        self.assertEqual(self.audit(Event.TICKET_AUTO_CLOSED, tid), [])
        self.assertReaches(self.supporter)


# --- races (PostgreSQL only) -------------------------------------------------------------


@unittest.skipUnless(
    connection.vendor == "postgresql",
    "needs PostgreSQL: SQLite takes one writer at a time (run with DATABASE_URL=postgres://…)",
)
class TicketRaceTests(TransactionTestCase):
    """Committed data other threads can see; the tables are emptied after each test."""

    def setUp(self):
        self.customer = make_customer("C-1001", now=START)
        make_product("gs-1", self.customer, now=START)
        self.supporters = [
            make_staff(f"sup{i:02}", f"Supporter {i:02}", Role.SUPPORTER, now=START)
            for i in range(THREADS)
        ]

    def open_tickets(self, count: int) -> list[int]:
        return [
            actions.open_ticket(
                customer=self.customer,
                subject=f"Ticket {i}",
                message="Hilfe",
                product_ids=[],
                follows_id=None,
                now=START,
            ).pk
            for i in range(count)
        ]

    def run_workers(self, now, workers: int = 2) -> list:
        def work(_):
            totals = [0, 0, 0]
            # Small batches so the two workers interleave over many transactions.
            while any(done := actions.materialise_due(now=now, limit=7)):
                totals = [t + d for t, d in zip(totals, done, strict=True)]
            return totals

        results = in_parallel(work, range(workers))
        errors = [r for r in results if isinstance(r, Exception)]
        self.assertEqual(errors, [])
        return [sum(column) for column in zip(*results, strict=True)]

    def test_it_lets_two_workers_mail_each_reminder_and_auto_close_exactly_once(self):
        tids = self.open_tickets(60)
        supporter = self.supporters[0]
        for tid in tids:
            actions.assign_ticket(supporter=supporter, ticket_id=tid, now=START)
            actions.reply(supporter=supporter, ticket_id=tid, body="Erledigt?", now=START)

        self.assertEqual(self.run_workers(START + 12 * DAY), [0, 0, 60])
        reminded = Counter(subjects("wird bald geschlossen"))
        self.assertEqual(len(reminded), 60)
        self.assertEqual(set(reminded.values()), {1})

        self.assertEqual(self.run_workers(START + 14 * DAY), [60, 0, 0])
        closed = Counter(subjects("wurde geschlossen"))
        self.assertEqual(len(closed), 60)
        self.assertEqual(set(closed.values()), {1})
        self.assertEqual(AuditEntry.objects.filter(event=Event.TICKET_AUTO_CLOSED).count(), 60)

        self.assertEqual(self.run_workers(START + 30 * DAY), [0, 60, 0])
        self.assertEqual(AuditEntry.objects.filter(event=Event.TICKET_LOCKED).count(), 60)
        self.assertEqual(actions.materialise_due(now=START + 31 * DAY), (0, 0, 0))
        self.assertEqual(len(subjects("wird bald geschlossen")), 60)
        self.assertEqual(len(subjects("wurde geschlossen")), 60)
        self.assertEqual(seal(now=START + 31 * DAY), AuditEntry.objects.count())
        report = verify_log()
        self.assertEqual((report.sealed, report.problems), (AuditEntry.objects.count(), []))
