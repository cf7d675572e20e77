"""Queue search and counts over the API: text, ticket and customer numbers, personal data."""

import re
import unittest
from urllib.parse import parse_qs, urlsplit

from django.db import connection
from django.test.utils import CaptureQueriesContext

from supportpin.accounts.actions import sync_customer
from supportpin.accounts.models import Customer
from supportpin.lib import clock
from supportpin.tickets.actions import open_ticket
from supportpin.tickets.search import DOCUMENT_LENGTH, with_words
from supportpin.tickets.tests.test_lifecycle import TicketTestCase
from testsupport import PASSWORD, personal_markers

LINK = re.compile(r'^<(?P<url>[^>]+)>; rel="next"$')


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


class QueueSearchTests(TicketTestCase):
    def found(self, term: str, query: str = "", who=None) -> list[int]:
        token = self.token_for(who or self.supporter)
        response = self.client.get(
            "/api/v1/support/tickets", {"q": term, **parse_qs(query)}, **bearer(token)
        )
        self.assertEqual(response.status_code, 200, response.content)
        return sorted(t["id"] for t in response.json())

    def test_it_finds_words_of_the_subject_and_of_every_message(self):
        printer = self.open_ticket(subject="Drucker offline", message="Seit heute früh.")["id"]
        dns = self.open_ticket(subject="Domain", message="Der DNS-Eintrag fehlt.")["id"]
        self.claim(dns)
        self.answer(dns, body="Ist der Nameserver eingetragen?")
        self.write(dns, body="Jetzt schon: ns1.example.net")

        self.assertEqual(self.found("drucker"), [printer])
        self.assertEqual(self.found("früh"), [printer])
        self.assertEqual(self.found("DNS"), [dns])
        self.assertEqual(self.found("nameserver"), [dns], "a supporter's reply counts")
        self.assertEqual(self.found("ns1"), [dns], "a later customer message counts")
        self.assertEqual(self.found("nothing-like-this"), [])

    def test_it_matches_words_from_their_start_in_any_case_all_words_at_once(self):
        restart = self.open_ticket(subject="Gameserver startet nicht neu")["id"]
        slow = self.open_ticket(subject="SERVER LANGSAM", message="Ständig Lags.")["id"]

        self.assertEqual(self.found("Gamesrv"), [])
        self.assertEqual(self.found("game"), [restart])
        self.assertEqual(self.found("server"), [slow], "a word matches from its start only")
        self.assertEqual(self.found("Server langsam"), [slow])
        self.assertEqual(self.found("server startet"), [])
        self.assertEqual(self.found("STÄNDIG"), [slow])
        self.assertEqual(self.found("lags!"), [slow], "punctuation separates words")

    def test_it_finds_a_ticket_by_its_number_exactly(self):
        first = self.open_ticket()["id"]
        second = self.open_ticket()["id"]

        self.assertEqual(self.found(str(second)), [second])
        self.assertEqual(self.found(f"#{first}"), [first])
        self.assertEqual(self.found("999999999999999999"), [])

    def test_it_finds_every_ticket_of_a_customer_by_number_in_any_case(self):
        one = self.open_ticket()["id"]
        two = self.open_ticket(subject="Zweites Problem")["id"]
        self.open_ticket(customer=self.other_customer)

        self.assertEqual(self.found("C-1001"), sorted([one, two]))
        self.assertEqual(self.found("c-1001"), sorted([one, two]))
        self.assertEqual(self.found("C-1002"), [])

    def test_it_never_finds_a_ticket_by_the_customers_personal_data(self):
        sync_customer(
            number="K-777",
            name="Erika Mustermann",
            email="erika@mustermann.example",
            password=PASSWORD,
            phone="+49 30 1234567",
            address=None,
            now=clock.now(),
        )
        erika = Customer.objects.get(pk="K-777")
        silent = self.open_ticket(customer=erika, subject="Webspace voll")["id"]

        for term in ("Mustermann", "Erika", "erika@mustermann.example", "1234567", "+49 30"):
            with self.subTest(term=term):
                self.assertEqual(self.found(term), [])
        for marker in personal_markers("C-1001").values():
            with self.subTest(marker=marker):
                self.assertEqual(self.found(marker), [])

        # Words the ticket's own text holds are found, whoever they are about.
        named = self.open_ticket(customer=erika, message="Grüße, Erika Mustermann")["id"]
        self.assertEqual(self.found("Mustermann"), [named])
        self.assertNotIn(silent, self.found("Erika"))

    def test_it_searches_within_the_filters_and_shows_every_supporter_the_same(self):
        mine = self.open_ticket(subject="Backup fehlt")["id"]
        hers = self.open_ticket(subject="Backup kaputt")["id"]
        self.claim(mine, self.supporter)
        self.claim(hers, self.other_supporter)

        self.assertEqual(self.found("backup", "assignee=me"), [mine])
        self.assertEqual(self.found("backup", "assignee=me", self.other_supporter), [hers])
        self.assertEqual(self.found("backup", "assignee=none"), [])
        self.assertEqual(self.found("backup", who=self.admin), sorted([mine, hers]))

    def test_it_keeps_the_search_in_the_link_to_the_next_page(self):
        wanted = [
            open_ticket(
                customer=self.customer,
                subject=f"Mail {i}",
                message="Postfach voll",
                product_ids=[],
                follows_id=None,
                now=clock.now(),
            ).pk
            for i in range(55)
        ]
        self.open_ticket(subject="Etwas anderes")
        token = self.token_for(self.supporter)

        first = self.client.get("/api/v1/support/tickets", {"q": "postfach"}, **bearer(token))
        url = LINK.match(first["Link"])["url"]
        self.assertEqual(parse_qs(urlsplit(url).query)["q"], ["postfach"])
        second = self.client.get(url, **bearer(token))

        self.assertEqual(
            sorted(t["id"] for t in first.json() + second.json()), sorted(wanted), "every match"
        )
        self.assertNotIn("Link", second)

    def test_it_refuses_a_search_too_long_or_without_letters_and_digits(self):
        token = self.token_for(self.supporter)

        for term in ("x" * 201, "!!!", "  -- ", "&|:*", "'", "%_"):
            with self.subTest(term=term):
                response = self.client.get("/api/v1/support/tickets", {"q": term}, **bearer(token))
                self.assertProblem(response, 422, "invalid")

    def test_it_takes_tsquery_and_like_syntax_as_plain_words(self):
        found = self.open_ticket(subject="a b c")["id"]

        self.assertEqual(self.found("a' | 'b"), [found])
        self.assertEqual(self.found("a:* & !b"), [found])
        self.assertEqual(self.found("a%"), [found])

    def test_it_costs_the_same_queries_with_a_search_for_many_tickets_as_for_one(self):
        self.open_ticket(subject="Netzwerk")
        token = self.token_for(self.supporter)

        def queries() -> int:
            with CaptureQueriesContext(connection) as captured:
                self.client.get("/api/v1/support/tickets", {"q": "netzwerk"}, **bearer(token))
            return len(captured)

        one = queries()
        for _ in range(10):
            self.open_ticket(subject="Netzwerk")
        self.assertEqual(queries(), one)

    def test_it_shows_search_to_staff_only(self):
        token = self.token_for(self.customer)
        response = self.client.get("/api/v1/support/tickets", {"q": "server"}, **bearer(token))

        self.assertEqual(response.status_code, 403)


class QueueCountTests(TicketTestCase):
    def counts(self, query: str = "", who=None) -> dict:
        response = self.get(f"/support/ticket-counts{query}", self.token_for(who or self.supporter))
        self.assertEqual(response.status_code, 200, response.content)
        return {name: (c["count"], c["more"]) for name, c in response.json().items()}

    def test_it_counts_each_view_of_the_queue(self):
        mine = self.open_ticket()["id"]
        self.open_ticket()
        answered = self.open_ticket(subject="Beantwortet")["id"]
        self.claim(mine)
        self.claim(answered, self.other_supporter)
        self.answer(answered, self.other_supporter)

        self.assertEqual(
            self.counts(),
            {
                "unclaimed": (1, False),
                "mine": (1, False),
                "waiting": (2, False),
                "all": (3, False),
            },
        )
        self.assertEqual(self.counts("?q=beantwortet")["all"], (1, False))
        self.assertEqual(self.counts("?q=beantwortet")["waiting"], (0, False))

    def test_it_stops_counting_after_fifty(self):
        for i in range(51):
            open_ticket(
                customer=self.customer,
                subject=f"Ticket {i}",
                message="Hilfe",
                product_ids=[],
                follows_id=None,
                now=clock.now(),
            )

        self.assertEqual(self.counts()["all"], (50, True))
        self.assertEqual(self.counts("?q=ticket")["unclaimed"], (50, True))
        self.assertEqual(self.counts()["mine"], (0, False))

    def test_it_refuses_bad_search_and_outsiders(self):
        self.assertProblem(
            self.get("/support/ticket-counts?q=%3F%3F", self.token_for(self.supporter)),
            422,
            "invalid",
        )
        self.assertEqual(
            self.get("/support/ticket-counts", self.token_for(self.customer)).status_code, 403
        )
        self.assertEqual(self.get("/support/ticket-counts").status_code, 401)


class SearchWordsTests(unittest.TestCase):
    def test_it_stops_collecting_words_at_the_limit_and_keeps_the_first(self):
        text = " ".join(f"w{i}" for i in range(DOCUMENT_LENGTH))

        words = with_words("anfang", text)

        self.assertLessEqual(len(words), DOCUMENT_LENGTH)
        self.assertTrue(words.startswith("anfang w0 w1 w2 "))

    def test_it_keeps_each_word_once_and_cuts_very_long_ones(self):
        words = with_words("server", "Server SERVER neu " + "x" * 5000)

        self.assertEqual(words.split(), ["server", "neu", "x" * 64])


@unittest.skipUnless(connection.vendor == "postgresql", "reads PostgreSQL's query plan")
class SearchIndexTests(TicketTestCase):
    def test_it_searches_the_words_through_their_gin_index(self):
        for _ in range(5):
            self.open_ticket()
        token = self.token_for(self.supporter)

        with CaptureQueriesContext(connection) as queries:
            self.client.get("/api/v1/support/tickets", {"q": "gameserver"}, **bearer(token))
        page_query = next(
            q["sql"] for q in queries if q["sql"].startswith('SELECT "tickets_ticket"')
        )
        with connection.cursor() as cursor:
            # A handful of rows: rule out reading the whole table or a whole index, so the
            # plan shows whether an index answers the search itself.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_indexscan = off")
            cursor.execute(f"EXPLAIN {page_query}")
            plan = "\n".join(row[0] for row in cursor.fetchall())

        self.assertIn("Bitmap Index Scan on ticket_search_idx", plan, plan)
