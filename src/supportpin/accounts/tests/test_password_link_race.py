import re
import unittest

import time_machine
from django.contrib.auth.hashers import check_password
from django.db import connection
from django.test import Client, TransactionTestCase

from supportpin.accounts.models import Customer
from supportpin.audit.models import AuditEntry, Event
from testsupport import START, THREADS, in_parallel, make_customer, personal_markers, queued_emails

LINK_PATH = re.compile(r"https?://testserver(/login/password/\S+/)")


@unittest.skipUnless(
    connection.vendor == "postgresql",
    "needs PostgreSQL: SQLite takes one writer at a time, so there is no race to test "
    "(run with DATABASE_URL=postgres://…)",
)
class PasswordLinkRaceTests(TransactionTestCase):
    def test_it_sets_exactly_one_password_when_sixteen_browsers_use_one_link_at_once(self):
        make_customer("C-1001", now=START)
        with time_machine.travel(START, tick=False):
            Client().post("/login/password/", {"email": personal_markers("C-1001")["email"]})
            (mail,) = queued_emails()
            path = LINK_PATH.search(mail["body"]).group(1)
            passwords = [f"new password number {n}" for n in range(THREADS)]

            responses = in_parallel(
                lambda password: Client().post(path, {"password": password, "repeated": password}),
                passwords,
            )
        # Asked of the stored hash: sixteen sign-ins would run into the sign-in throttle.
        stored = Customer.objects.get(pk="C-1001").password
        set_passwords = [p for p in passwords if check_password(p, stored)]

        self.assertEqual(sorted(r.status_code for r in responses), [302] + [400] * (THREADS - 1))
        self.assertEqual(len(set_passwords), 1)
        resets = AuditEntry.objects.filter(event=Event.CUSTOMER_PASSWORD_RESET, customer="C-1001")
        self.assertEqual(resets.count(), 1)
