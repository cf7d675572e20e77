import unittest

import time_machine
from django.db import connection
from django.test import Client, TransactionTestCase

from supportpin.accounts.actions import SYSTEM, create_sign_in_link
from supportpin.audit.models import AuditEntry, Event
from testsupport import START, THREADS, in_parallel, make_customer


@unittest.skipUnless(
    connection.vendor == "postgresql",
    "needs PostgreSQL: SQLite takes one writer at a time, so there is no race to test "
    "(run with DATABASE_URL=postgres://…)",
)
class SignInLinkRaceTests(TransactionTestCase):
    def test_it_signs_in_exactly_one_of_sixteen_browsers_opening_one_link_at_once(self):
        customer = make_customer("C-1001", now=START)
        link = create_sign_in_link(customer=customer, next="/portal/", by=SYSTEM, now=START)
        browsers = [Client() for _ in range(THREADS)]

        with time_machine.travel(START, tick=False):
            responses = in_parallel(lambda b: b.get(f"/login/link/{link.token}/"), browsers)
            signed_in = [b for b in browsers if b.get("/portal/").status_code == 200]

        self.assertEqual(sorted(r.status_code for r in responses), [302] + [400] * (THREADS - 1))
        self.assertEqual(len(signed_in), 1)
        uses = AuditEntry.objects.filter(event=Event.SIGNED_IN_WITH_LINK, customer="C-1001")
        self.assertEqual(uses.count(), 1)
