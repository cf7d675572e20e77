import unittest

from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from supportpin.access.access import may_access
from supportpin.audit.models import AuditEntry, Event
from supportpin.lib import clock
from supportpin.notify.models import Kind, OutboxMessage
from testsupport import SupportPinTestCase, make_product

# sp/rel = SAVEPOINT/RELEASE of the action's atomic block (a test runs inside a transaction);
# audit = the entry's INSERT (inside the action's transaction; it takes no lock).


class QueryCountTests(SupportPinTestCase):
    def setUp(self):
        super().setUp()
        self.pin = self.current_pin()
        self.supporter_token = self.token_for(self.supporter)

    def redeem_now(self):
        return self.post(
            "/support/pin-redemptions",
            {"customer": "C-1001", "pin": self.pin},
            self.supporter_token,
        )

    def test_it_decides_access_in_one_query(self):
        self.redeem_now()

        # live grant of this supporter for the product's customer (PIN or in-scope ticket)
        with self.assertNumQueries(1):
            grant = may_access(self.supporter, self.product, clock.now())
        self.assertIsNotNone(grant)

        with self.assertNumQueries(1):
            self.assertIsNone(may_access(self.other_supporter, self.product, clock.now()))

    def test_it_reads_a_product_in_a_fixed_number_of_queries(self):
        self.redeem_now()

        # token, sp, product, grant, audit, rel
        with self.assertNumQueries(6):
            response = self.get("/support/products/gs-1", self.supporter_token)
        self.assertEqual(response.status_code, 200)

        # token, sp, product, grant (none), rollback to sp, rel
        with self.assertNumQueries(6):
            response = self.get("/support/products/gs-2", self.supporter_token)
        self.assertEqual(response.status_code, 404)

    def test_it_lists_a_customers_products_in_a_fixed_number_of_queries(self):
        self.redeem_now()

        # token, sp, live grants, products, audit, rel
        with self.assertNumQueries(6):
            response = self.get("/support/customers/C-1001/products", self.supporter_token)
        self.assertEqual([p["id"] for p in response.json()], ["gs-1", "vs-1"])

        for number in range(5):
            make_product(f"ws-{number}", self.customer, now=clock.now(), type="webspace")
        with self.assertNumQueries(6):  # the same, however many products the customer has
            response = self.get("/support/customers/C-1001/products", self.supporter_token)
        self.assertEqual(len(response.json()), 7)

    @override_settings(
        SUPPORTPIN_EVENTS_WEBHOOK_URL="https://backend.example/grant-events",
        SUPPORTPIN_EVENTS_WEBHOOK_SECRET="grant-events-secret",
    )
    def test_it_redeems_a_pin_in_a_fixed_number_of_queries(self):
        # token, sp, staff lock, PIN lock (found by the customer's number, read with their
        # e-mail address), PIN update, grant insert, audit, outbox (grant event and e-mail in
        # one INSERT), rel
        with self.assertNumQueries(9):
            response = self.redeem_now()
        self.assertEqual(response.status_code, 201)
        queued = OutboxMessage.objects.order_by("id").values_list("kind", flat=True)
        self.assertEqual(list(queued)[-2:], [Kind.GRANT_EVENT, Kind.EMAIL])

        # token, sp, staff lock, PIN lock, PIN's grant, rel, grant's supporter (lazy)
        with self.assertNumQueries(7):
            response = self.redeem_now()
        self.assertEqual(response.status_code, 200)

    def test_it_answers_a_decision_in_a_fixed_number_of_queries(self):
        self.redeem_now()
        path = "/decisions?supporter=sam&product=gs-1"

        # API key, grant (found by the supporter's name and the product's id, with whether its
        # window is logged), sp, window, audit, rel
        with self.assertNumQueries(6):
            response = self.get(path, self.api_key)
        self.assertTrue(response.json()["allowed"])

        # The same question again in the same 5 minutes: its window is logged, nothing is written
        with self.assertNumQueries(2):
            response = self.get(path, self.api_key)
        self.assertTrue(response.json()["allowed"])

        # API key, grant (none): a deny opens no transaction
        with self.assertNumQueries(2):
            response = self.get("/decisions?supporter=olga&product=gs-1", self.api_key)
        self.assertFalse(response.json()["allowed"])

        # Unknown names are a no, in the same one query
        for unknown in ("supporter=nobody&product=gs-1", "supporter=sam&product=nothing"):
            with self.assertNumQueries(2):
                response = self.get(f"/decisions?{unknown}", self.api_key)
            self.assertFalse(response.json()["allowed"])


class DecisionTransactionTests(SupportPinTestCase):
    def decide(self, supporter: str):
        with CaptureQueriesContext(connection) as queries:
            response = self.get(f"/decisions?supporter={supporter}&product=gs-1", self.api_key)
        # Inside a test's transaction an action's transaction shows as a SAVEPOINT; in
        # production it is a BEGIN, which on SQLite (IMMEDIATE) takes the database's write lock.
        opened = [q["sql"] for q in queries if q["sql"].startswith(("SAVEPOINT", "BEGIN"))]
        return response.json()["allowed"], opened

    def test_it_denies_a_decision_without_opening_a_write_transaction(self):
        entries = AuditEntry.objects.count()

        allowed, opened = self.decide("olga")

        self.assertEqual((allowed, opened), (False, []))
        self.assertEqual(AuditEntry.objects.count(), entries)

    def test_it_writes_an_allowed_decision_to_the_audit_log_in_a_transaction(self):
        self.redeem(self.current_pin())

        allowed, opened = self.decide("sam")

        self.assertTrue(allowed)
        self.assertTrue(opened)
        self.assertEqual(AuditEntry.objects.latest("id").event, Event.ACCESS_DECIDED)

    def test_it_answers_a_repeated_decision_in_a_logged_window_without_a_transaction(self):
        self.redeem(self.current_pin())
        self.decide("sam")
        entries = AuditEntry.objects.count()

        allowed, opened = self.decide("sam")

        self.assertEqual((allowed, opened), (True, []))
        self.assertEqual(AuditEntry.objects.count(), entries)


@unittest.skipUnless(connection.vendor == "postgresql", "reads PostgreSQL's query plan")
class RedemptionPlanTests(SupportPinTestCase):
    def test_it_finds_the_pin_through_the_customer_number_index_in_any_case(self):
        pin = self.current_pin()
        with CaptureQueriesContext(connection) as queries:
            response = self.redeem(pin, customer="c-1001")
        self.assertEqual(response.status_code, 201)
        pin_lock = next(
            q["sql"]
            for q in queries
            if q["sql"].startswith('SELECT "access_supportpin"') and "FOR NO KEY UPDATE" in q["sql"]
        )
        with transaction.atomic(), connection.cursor() as cursor:
            # A handful of rows: make PostgreSQL show the plan it would use for many.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {pin_lock}")
            plan = "\n".join(row[0] for row in cursor.fetchall())

        # One index lookup of the number in any case, then the customer's PINs by their key:
        # not a pass over every live PIN comparing upper-cased numbers.
        self.assertIn("Index Cond: (upper((number)::text) = 'C-1001'::text)", plan, plan)
        self.assertRegex(plan, r"on access_supportpin.*\n\s+Index Cond: \(\(customer_id\)", plan)
        self.assertNotIn("upper((customer_id)", plan, plan)
