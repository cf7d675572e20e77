"""The supporters' queue: filters by time-exact status and holder, order, and cursor pages."""

import base64
import re
import unittest
from datetime import timedelta
from urllib.parse import urlsplit

from django.db import connection
from django.test.utils import CaptureQueriesContext

from supportpin.lib import clock
from supportpin.tickets.actions import open_ticket
from supportpin.tickets.tests.test_lifecycle import TicketTestCase
from testsupport import START

DAY = timedelta(days=1)
LINK = re.compile(r'^<(?P<url>[^>]+)>; rel="next"$')


class TicketQueueTests(TicketTestCase):
    def queue(self, query: str = "", who=None) -> list[int]:
        response = self.get(f"/support/tickets{query}", self.token_for(who or self.supporter))
        self.assertEqual(response.status_code, 200, response.content)
        return [t["id"] for t in response.json()]

    def many_tickets(self, count: int) -> list[int]:
        """Open `count` tickets through the action, all in the same second (ties on time)."""
        return [
            open_ticket(
                customer=self.customer,
                subject=f"Ticket {i}",
                message="Hilfe",
                product_ids=[],
                follows_id=None,
                now=clock.now(),
            ).pk
            for i in range(count)
        ]

    def test_it_filters_by_status_as_it_is_at_this_moment(self):
        overdue = self.open_ticket()["id"]
        self.claim(overdue)
        self.answer(overdue)
        self.travel_to(START + 10 * DAY)
        waiting = self.open_ticket()["id"]
        answered = self.open_ticket()["id"]
        self.claim(answered)
        self.answer(answered)
        closed = self.open_ticket()["id"]
        self.customer_post(closed, "close")

        self.travel_to(START + 14 * DAY - timedelta(seconds=1))

        self.assertEqual(self.queue("?status=open"), [waiting])
        self.assertEqual(sorted(self.queue("?status=answered")), sorted([overdue, answered]))
        self.assertEqual(self.queue("?status=closed"), [closed])

        # The second the 14 days are over, without any worker run.
        self.travel_to(START + 14 * DAY)

        self.assertEqual(self.queue("?status=open"), [waiting])
        self.assertEqual(self.queue("?status=answered"), [answered])
        self.assertEqual(sorted(self.queue("?status=closed")), sorted([overdue, closed]))
        self.assertEqual(len(self.queue()), 4)

    def test_it_filters_by_holder(self):
        mine = self.open_ticket()["id"]
        hers = self.open_ticket()["id"]
        nobodys = self.open_ticket()["id"]
        self.claim(mine, self.supporter)
        self.claim(hers, self.other_supporter)

        self.assertEqual(self.queue("?assignee=me"), [mine])
        self.assertEqual(self.queue("?assignee=me", self.other_supporter), [hers])
        self.assertEqual(self.queue("?assignee=me", self.admin), [])
        self.assertEqual(self.queue("?assignee=none"), [nobodys])
        self.assertEqual(self.queue("?assignee=me&status=answered"), [])
        self.answer(mine)
        self.assertEqual(self.queue("?assignee=me&status=answered"), [mine])

    def test_it_lists_the_newest_activity_first(self):
        first = self.open_ticket()["id"]
        self.travel_to(START + timedelta(minutes=1))
        second = self.open_ticket()["id"]
        self.travel_to(START + timedelta(minutes=2))
        third = self.open_ticket()["id"]
        self.assertEqual(self.queue(), [third, second, first])

        self.travel_to(START + timedelta(minutes=3))
        self.write(first)

        self.assertEqual(self.queue(), [first, third, second])
        mine = self.get("/me/tickets", self.token_for(self.customer)).json()
        self.assertEqual([t["id"] for t in mine], [first, third, second])

    def test_it_pages_with_a_link_to_the_next_page_until_the_last(self):
        created = self.many_tickets(120)
        token = self.token_for(self.supporter)
        pages: list[list[int]] = []
        url = "/api/v1/support/tickets?status=open"

        while url:
            self.assertLess(len(pages), 10, "the pages never end")
            response = self.client.get(url, headers={"Authorization": f"Bearer {token}"})
            self.assertEqual(response.status_code, 200, response.content)
            pages.append([t["id"] for t in response.json()])
            link = response.headers.get("Link")
            url = None
            if link:
                match = LINK.match(link)
                self.assertIsNotNone(match, link)
                parts = urlsplit(match["url"])
                self.assertIn("status=open", parts.query)
                url = f"{parts.path}?{parts.query}"

        self.assertEqual([len(p) for p in pages], [50, 50, 20])
        flat = [tid for page in pages for tid in page]
        self.assertEqual(len(set(flat)), len(flat), "pages overlap")
        # Same second for all: the id breaks the tie, newest first.
        self.assertEqual(flat, sorted(created, reverse=True))

    def test_it_sends_no_link_when_everything_fits_on_one_page(self):
        self.many_tickets(50)

        response = self.get("/support/tickets", self.token_for(self.supporter))

        self.assertEqual(len(response.json()), 50)
        self.assertNotIn("Link", response.headers)

    def test_it_costs_the_same_queries_for_fifty_tickets_as_for_one(self):
        token = self.token_for(self.supporter)
        self.many_tickets(1)
        with CaptureQueriesContext(connection) as one:
            self.get("/support/tickets", token)
        self.many_tickets(49)
        with CaptureQueriesContext(connection) as fifty:
            response = self.get("/support/tickets", token)

        self.assertEqual(len(response.json()), 50)
        self.assertEqual(len(fifty), len(one), [q["sql"] for q in fifty.captured_queries])

    def test_it_refuses_a_bad_cursor(self):
        self.many_tickets(3)
        token = self.token_for(self.supporter)

        cursors = {
            "not base64": "garbage!",
            "foo|bar": "Zm9vfGJhcg",
            "no id": "MjAyNi0xMS0yNw",
            "too long": "x" * 300,
        }
        for what, cursor in cursors.items():
            with self.subTest(what):
                response = self.get(f"/support/tickets?cursor={cursor}", token)
                self.assertProblem(response, 422, "invalid")

    def test_it_answers_a_forged_cursor_whose_id_fits_no_database_integer_without_a_500(self):
        self.many_tickets(3)
        # base64 of "2026-11-27T09:00:00+00:00|99999999999999999999": well-formed, out of range.
        cursor = "MjAyNi0xMS0yN1QwOTowMDowMCswMDowMHw5OTk5OTk5OTk5OTk5OTk5OTk5OQ"

        response = self.get(f"/support/tickets?cursor={cursor}", self.token_for(self.supporter))

        self.assertIn(response.status_code, (200, 422), response.content)

    def test_it_refuses_a_cursor_at_the_ends_of_the_calendar_or_without_a_time_zone(self):
        self.many_tickets(3)
        token = self.token_for(self.supporter)

        for raw in (
            "0001-01-01T00:00:00+01:00|5",
            "9999-12-31T23:59:59-01:00|5",
            "2026-11-27T09:00:00|5",
            "2026-11-27T09:00:00+00:00|0",
            "2026-11-27T09:00:00+00:00|9223372036854775808",
        ):
            with self.subTest(raw):
                cursor = base64.urlsafe_b64encode(raw.encode()).decode()
                response = self.get(f"/support/tickets?cursor={cursor}", token)
                self.assertProblem(response, 422, "invalid")

    def test_it_pages_from_a_cursor_at_the_first_or_last_second_of_the_calendar(self):
        created = self.many_tickets(3)

        for raw, expected in (
            ("0001-01-01T00:00:00+00:00|5", []),
            ("9999-12-31T23:59:59+00:00|5", sorted(created, reverse=True)),
        ):
            with self.subTest(raw):
                cursor = base64.urlsafe_b64encode(raw.encode()).decode()
                self.assertEqual(self.queue(f"?cursor={cursor}"), expected)

    def test_it_refuses_an_unknown_filter_value(self):
        token = self.token_for(self.supporter)

        for query in ("status=pending", "status=OPEN", "assignee=olga", "assignee="):
            with self.subTest(query=query):
                self.assertProblem(self.get(f"/support/tickets?{query}", token), 422, "invalid")

    def test_it_shows_the_queue_to_staff_only(self):
        self.open_ticket()

        self.assertEqual(
            self.get("/support/tickets", self.token_for(self.customer)).status_code, 403
        )
        self.assertEqual(self.get("/support/tickets").status_code, 401)
        self.assertEqual(len(self.queue(who=self.admin)), 1)


@unittest.skipUnless(connection.vendor == "postgresql", "reads PostgreSQL's query plan")
class DeepQueuePageTests(TicketTestCase):
    def test_it_seeks_the_index_to_the_cursor_instead_of_filtering_earlier_pages(self):
        for i in range(60):
            self.travel_to(START + timedelta(minutes=i))
            self.open_ticket()
        token = self.token_for(self.supporter)
        cursor = LINK.match(self.get("/support/tickets", token)["Link"])["url"].split("cursor=")[1]

        with CaptureQueriesContext(connection) as queries:
            self.get(f"/support/tickets?cursor={cursor}", token)
        page_query = next(
            q["sql"] for q in queries if q["sql"].startswith('SELECT "tickets_ticket"')
        )
        with connection.cursor() as cursor:
            # A handful of rows: make PostgreSQL show the plan it would use for many.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {page_query}")
            plan = "\n".join(row[0] for row in cursor.fetchall())

        self.assertRegex(plan, r"Index Cond: \(ROW\(updated_at, id\) < ROW\(", plan)
        self.assertNotIn("Filter", plan, plan)
