"""The queue page's search box and its counts per filter, as a supporter reads them."""

import re
from datetime import timedelta
from html import unescape

from django.db import connection
from django.test.utils import CaptureQueriesContext

from supportpin.lib import clock
from supportpin.tickets.actions import open_ticket
from supportpin.web.tests.test_support_panel import PanelTestCase
from testsupport import START, make_customer, personal_markers

SUBJECT_LINK = re.compile(r'<a href="/support/tickets/[0-9]+/">([^<]+)</a>')
FILTER_COUNT = re.compile(r'href="\?view=(\w+)[^"]*"[^>]*>[^<]*<span class="count">\(([^)]+)\)')


class QueueSearchPageTests(PanelTestCase):
    def setUp(self):
        super().setUp()
        self.printer = self.open_ticket("Drucker offline")
        self.travel_to(START + timedelta(seconds=1))
        self.mail = self.open_ticket("Postfach voll", customer=self.other_customer)

    def search(self, term: str, view: str = "all", status: int = 200):
        response = self.client.get("/support/tickets/", {"view": view, "q": term})
        self.assertEqual(response.status_code, status, response.content[:2000])
        self.assertCleanPage(response)
        return response

    def subjects(self, response) -> set[str]:
        return set(SUBJECT_LINK.findall(response.content.decode()))

    def test_it_finds_tickets_by_words_ticket_number_and_customer_number(self):
        self.assertEqual(self.subjects(self.search("drucker")), {"Drucker offline"})
        self.assertEqual(self.subjects(self.search(f"#{self.mail}")), {"Postfach voll"})
        self.assertEqual(self.subjects(self.search("c-2002")), {"Postfach voll"})
        self.assertEqual(self.subjects(self.search("start")), {"Drucker offline", "Postfach voll"})

    def test_it_labels_the_search_box_and_says_how_many_it_found(self):
        response = self.search("drucker")

        self.assertContains(response, '<form method="get" action="" role="search"')
        self.assertContains(response, '<label for="id_q">Search tickets</label>')
        self.assertContains(response, 'type="search" name="q" value="drucker"')
        self.assertContains(response, '<p role="status">1 ticket found.</p>', html=True)
        self.assertContains(self.search("start"), "2 tickets found.")

    def test_it_says_when_nothing_matches(self):
        response = self.search("zahnbürste")

        self.assertEqual(self.subjects(response), set())
        self.assertContains(response, "0 tickets found.")
        self.assertIn("No tickets here match “zahnbürste”.", unescape(response.content.decode()))

    def test_it_never_finds_a_ticket_by_the_customers_name_or_e_mail(self):
        self.open_ticket("Webspace voll", customer=make_customer("K-777", now=clock.now()))

        for term in personal_markers("K-777").values():
            with self.subTest(term=term):
                response = self.search(term)
                self.assertEqual(self.subjects(response), set())
                self.assertNotContains(response, "Webspace voll")

    def test_it_explains_a_search_without_letters_or_digits_or_too_long(self):
        response = self.search("?!", status=400)
        self.assertContains(response, "Search for at least one letter or digit.", status_code=400)
        self.assertEqual(self.subjects(response), set())

        response = self.search("x" * 201, status=400)
        self.assertContains(
            response, "Ensure this value has at most 200 characters", status_code=400
        )

    def test_it_explains_a_bad_search_in_german(self):
        self.client.cookies["django_language"] = "de"

        response = self.search("--", status=400)

        self.assertContains(
            response,
            "Suchen Sie nach mindestens einem Buchstaben oder einer Ziffer.",
            status_code=400,
        )
        self.assertContains(
            response, '<label for="id_q">Tickets durchsuchen</label>', status_code=400
        )

    def test_it_searches_within_the_filter_and_keeps_the_search_in_filter_and_page_links(self):
        self.post(f"/support/tickets/{self.printer}/claim", token=self.token_for(self.supporter))

        self.assertEqual(self.subjects(self.search("voll", view="mine")), set())
        self.assertEqual(self.subjects(self.search("drucker", view="mine")), {"Drucker offline"})
        html = self.search("drucker", view="mine").content.decode()
        self.assertIn('href="?view=all&amp;q=drucker"', html)
        self.assertIn('<input type="hidden" name="view" value="mine">', html)
        self.assertIn('aria-current="page">Mine', html)

        for n in range(26):
            self.travel_to(START + timedelta(minutes=1 + n))
            self.open_ticket(f"Drucker {n:02d}")
        first = self.search("drucker", view="unclaimed").content.decode()
        link = re.search(r'href="(\?view=unclaimed&amp;q=drucker&amp;cursor=[^"]+)"', first)
        self.assertIsNotNone(link)
        second = self.page("/support/tickets/" + unescape(link.group(1)))
        self.assertEqual(self.subjects(second), {"Drucker 00"})


class QueueCountsPageTests(PanelTestCase):
    def counts(self, path: str) -> dict[str, str]:
        return dict(FILTER_COUNT.findall(self.page(path).content.decode()))

    def test_it_counts_each_filter(self):
        mine = self.open_ticket("Mine")
        self.open_ticket("Waiting")
        self.post(f"/support/tickets/{mine}/claim", token=self.token_for(self.supporter))

        self.assertEqual(
            self.counts("/support/tickets/"),
            {"unclaimed": "1", "mine": "1", "waiting": "2", "all": "2"},
        )
        self.assertEqual(
            self.counts("/support/tickets/?q=mine"),
            {"unclaimed": "0", "mine": "1", "waiting": "1", "all": "1"},
        )

    def test_it_shows_50_plus_instead_of_counting_further(self):
        for i in range(51):
            open_ticket(
                customer=self.customer,
                subject=f"Ticket {i}",
                message="Hilfe",
                product_ids=[],
                follows_id=None,
                now=clock.now(),
            )

        self.assertEqual(
            self.counts("/support/tickets/?view=all"),
            {"unclaimed": "50+", "mine": "0", "waiting": "50+", "all": "50+"},
        )
        self.assertContains(
            self.page("/support/tickets/?view=all&q=hilfe"), "More than 50 tickets found."
        )

    def test_it_counts_in_a_fixed_number_of_queries_however_many_tickets(self):
        self.open_ticket("One")
        self.page("/support/tickets/?view=all&q=one")

        def queries() -> int:
            with CaptureQueriesContext(connection) as captured:
                self.page("/support/tickets/?view=all&q=one")
            return len(captured)

        before = queries()
        for i in range(60):
            self.open_ticket(f"One {i}")
        self.assertEqual(queries(), before)
