"""How the app talks to PostgreSQL: pooled connections that need no set-up per request,
values bound by the server, and the busiest queries planned once per connection."""

import unittest

from django.db import connection
from django.db.models import CharField
from django.test import TransactionTestCase, override_settings

from supportpin.accounts.models import Staff
from supportpin.lib.prepared import Param, PreparedQuery


@unittest.skipUnless(connection.vendor == "postgresql", "about PostgreSQL connections")
class DatabaseConnectionTests(TransactionTestCase):
    def session_after_a_request(self, query: str):
        """Run `query` the way a request does: on a connection taken and given back."""
        connection.close()
        with connection.cursor() as cursor:
            cursor.execute(query)
            value = cursor.fetchone()[0]
        connection.close()
        return value

    def test_it_opens_no_new_server_session_per_request(self):
        sessions = "SELECT array_agg(pid) FROM pg_stat_activity WHERE datname = current_database()"
        open_before = set(self.session_after_a_request(sessions))

        served_by = {self.session_after_a_request("SELECT pg_backend_pid()") for _ in range(10)}

        # Pooled, requests reuse sessions already open; unpooled, each opens its own.
        self.assertLessEqual(served_by, open_before)

    def test_it_starts_each_session_in_utc_without_setting_the_zone_afterwards(self):
        query = "SELECT setting || ' from ' || source FROM pg_settings WHERE name = 'TimeZone'"

        # "client": sent with the connection request, not by a set_config() round trip.
        self.assertEqual(self.session_after_a_request(query), "UTC from client")

    def test_it_sends_values_apart_from_the_sql(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_query() WHERE %s = %s", ["K10001", "K10001"])
            sent = cursor.fetchone()[0]

        # Bound by the server: psycopg never quotes a value into the statement text.
        self.assertNotIn("K10001", sent)
        self.assertIn("$1", sent)

    def prepared_statements(self) -> list[str]:
        """The statements the server holds prepared for this session."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            return [row[0] for row in cursor.fetchall()]

    def test_the_server_prepares_a_prepared_query_once_and_nothing_else(self):
        by_email = PreparedQuery(lambda: Staff.objects.filter(email=Param("email", CharField())))
        # A pooled session may hold what earlier tests prepared: count what this one adds.
        before = set(self.prepared_statements())

        for email in ("sam@staff.example", "olga@staff.example"):
            by_email.run({"email": email})
        Staff.objects.filter(username="sam").exists()

        added = set(self.prepared_statements()) - before
        self.assertEqual(len([s for s in added if '"accounts_staff"."email" = ' in s]), 1)
        self.assertFalse([s for s in added if '"accounts_staff"."username" = ' in s])

    @override_settings(SUPPORTPIN_DB_PREPARE=False)
    def test_it_prepares_nothing_on_the_server_when_told_not_to(self):
        # Behind PgBouncer in transaction mode a statement prepared in one session is unknown
        # in the next.
        by_name = PreparedQuery(lambda: Staff.objects.filter(display_name=Param("n", CharField())))

        by_name.run({"n": "Sam S."})

        statements = self.prepared_statements()
        self.assertFalse([s for s in statements if '"accounts_staff"."display_name" = ' in s])
