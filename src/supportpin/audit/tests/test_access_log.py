from datetime import datetime, timedelta
from urllib.parse import urlsplit

from supportpin.access.actions import expire_due_pins
from supportpin.lib import clock
from supportpin.products.actions import read_product
from testsupport import START, SupportPinTestCase


class AccessLogTests(SupportPinTestCase):
    def access_log(self, customer=None, query: str = ""):
        response = self.get(f"/me/access-log{query}", self.token_for(customer or self.customer))
        self.assertEqual(response.status_code, 200, response.content)
        return response

    def test_it_shows_who_read_which_product_when_and_on_what_basis(self):
        grant = self.redeem(self.current_pin()).json()
        self.travel_to(START + timedelta(minutes=3))
        self.assertEqual(
            self.get("/support/products/gs-1", self.token_for(self.supporter)).status_code, 200
        )

        entries = self.access_log().json()

        self.assertEqual(
            [e["event"] for e in entries], ["product_read", "pin_redeemed", "pin_issued"]
        )
        read = entries[0]
        self.assertEqual(read["actor"], "Sam S.")
        self.assertEqual(read["product"], "gs-1")
        self.assertEqual(read["basis"], "pin")
        self.assertEqual(read["grant_id"], grant["id"])
        self.assertEqual(datetime.fromisoformat(read["at"]), START + timedelta(minutes=3))
        redeemed = entries[1]
        self.assertEqual((redeemed["actor"], redeemed["basis"]), ("Sam S.", "pin"))
        self.assertEqual(redeemed["grant_id"], grant["id"])

    def test_it_lists_newest_first(self):
        token = self.token_for(self.supporter)
        self.redeem(self.current_pin())
        for minute, product in ((1, "gs-1"), (2, "vs-1"), (3, "gs-1")):
            self.travel_to(START + timedelta(minutes=minute))
            self.assertEqual(self.get(f"/support/products/{product}", token).status_code, 200)

        entries = self.access_log().json()

        self.assertEqual([e["product"] for e in entries[:3]], ["gs-1", "vs-1", "gs-1"])
        times = [e["at"] for e in entries]
        self.assertEqual(times, sorted(times, reverse=True))

    def test_it_places_an_end_written_down_later_at_the_moment_it_happened(self):
        self.redeem(self.current_pin())  # at START: the PIN ends at START + 60 min
        self.travel_to(START + timedelta(minutes=70))
        body = {"subject": "Server lags", "message": "Since an hour."}
        self.assertEqual(
            self.post("/me/tickets", body, self.token_for(self.customer)).status_code, 201
        )
        self.travel_to(START + timedelta(minutes=75))
        expire_due_pins(now=clock.now())  # the worker writes the PIN's end down, late

        entries = self.access_log().json()

        self.assertEqual(
            [(e["event"], datetime.fromisoformat(e["at"])) for e in entries],
            [
                ("ticket_created", START + timedelta(minutes=70)),
                ("pin_deactivated", START + timedelta(minutes=60)),
                ("pin_redeemed", START),
                ("pin_issued", START),
            ],
        )

    def test_it_shows_failed_pin_attempts_and_the_deactivation(self):
        pin = self.current_pin()
        self.assertProblem(
            self.redeem(self.wrong_pin(pin), supporter=self.other_supporter), 403, "pin_invalid"
        )
        grant = self.redeem(pin).json()
        self.travel_to(START + timedelta(minutes=10))
        self.assertEqual(
            self.delete(
                f"/support/grants/{grant['id']}", self.token_for(self.supporter)
            ).status_code,
            204,
        )

        entries = self.access_log().json()

        events = [(e["event"], e["actor"]) for e in entries]
        self.assertEqual(
            events,
            [
                ("pin_deactivated", "Sam S."),
                ("pin_redeemed", "Sam S."),
                ("pin_attempt_failed", "Olga O."),
                ("pin_issued", "C-1001"),
            ],
        )
        deactivated = entries[0]
        self.assertEqual((deactivated["basis"], deactivated["grant_id"]), ("pin", grant["id"]))
        self.assertEqual(deactivated["detail"]["reason"], "deactivated")

    def test_it_never_shows_another_customers_entries(self):
        self.redeem(self.current_pin())
        other_pin = self.current_pin(self.other_customer)
        self.redeem(self.wrong_pin(other_pin), supporter=self.other_supporter, customer="C-2002")
        self.redeem(other_pin, supporter=self.other_supporter, customer="C-2002")
        self.assertEqual(
            self.get("/support/products/gs-2", self.token_for(self.other_supporter)).status_code,
            200,
        )

        mine = self.access_log().json()
        theirs = self.access_log(self.other_customer).json()

        self.assertEqual([e["event"] for e in mine], ["pin_redeemed", "pin_issued"])
        self.assertEqual({e["actor"] for e in mine}, {"Sam S.", "C-1001"})
        self.assertNotIn("gs-2", [e["product"] for e in mine])
        self.assertEqual(
            [e["event"] for e in theirs],
            ["product_read", "pin_redeemed", "pin_attempt_failed", "pin_issued"],
        )
        self.assertNotIn("Sam S.", [e["actor"] for e in theirs])

    def test_it_is_for_customers_only(self):
        self.assertProblem(
            self.get("/me/access-log", self.token_for(self.supporter)), 403, "forbidden"
        )
        self.assertEqual(self.get("/me/access-log").status_code, 401)


class AccessLogPagingTests(SupportPinTestCase):
    def setUp(self):
        super().setUp()
        self.redeem(self.current_pin())  # two entries: pin_issued, pin_redeemed

    def read_products(self, times: int) -> None:
        """Read gs-1 `times` times, one second apart, so every entry has its own time."""
        for second in range(1, times + 1):
            self.travel_to(START + timedelta(seconds=second))
            read_product(supporter=self.supporter, product_id="gs-1", now=clock.now())

    def follow(self, link: str):
        self.assertRegex(link, r'^<[^>]+>; rel="next"$')
        url = urlsplit(link[1 : link.index(">")])
        self.assertEqual(url.path, "/api/v1/me/access-log")
        self.assertRegex(url.query, r"^cursor=[^&]+$")
        return self.client.get(
            f"{url.path}?{url.query}", HTTP_AUTHORIZATION=f"Bearer {self.token_for(self.customer)}"
        )

    def test_it_pages_a_long_log_with_a_next_link_and_no_overlap(self):
        self.read_products(108)  # 110 entries: pages of 50, 50 and 10

        pages = [self.get("/me/access-log", self.token_for(self.customer))]
        while "Link" in pages[-1]:
            self.assertLess(len(pages), 5)
            pages.append(self.follow(pages[-1]["Link"]))

        self.assertEqual([p.status_code for p in pages], [200, 200, 200])
        sizes = [len(p.json()) for p in pages]
        self.assertEqual(sizes, [50, 50, 10])
        entries = [e for p in pages for e in p.json()]
        self.assertEqual([e["event"] for e in entries[-2:]], ["pin_redeemed", "pin_issued"])
        reads = [datetime.fromisoformat(e["at"]) for e in entries[:-2]]
        expected = [START + timedelta(seconds=s) for s in range(108, 0, -1)]
        self.assertEqual(reads, expected)  # each read once, newest first, across page borders

    def test_it_gives_no_next_link_when_the_log_fits_one_page(self):
        self.read_products(48)  # exactly 50 entries

        response = self.get("/me/access-log", self.token_for(self.customer))

        self.assertEqual(len(response.json()), 50)
        self.assertNotIn("Link", response)

    def test_it_continues_after_the_cursor_without_repeating_entries(self):
        self.read_products(49)  # 51 entries: the next page holds only the oldest one

        first = self.get("/me/access-log", self.token_for(self.customer))
        second = self.follow(first["Link"])

        self.assertEqual(len(first.json()), 50)
        self.assertEqual([e["event"] for e in second.json()], ["pin_issued"])
        self.assertNotIn("pin_issued", [e["event"] for e in first.json()])
        self.assertNotIn("Link", second)

    def test_it_pages_through_entries_of_one_second_without_gaps_or_repeats(self):
        for _ in range(60):  # with the two of setUp, 62 entries, all at START
            read_product(supporter=self.supporter, product_id="gs-1", now=clock.now())

        first = self.get("/me/access-log", self.token_for(self.customer))
        second = self.follow(first["Link"])

        ids = [e["id"] for e in first.json() + second.json()]
        self.assertEqual((len(first.json()), len(second.json())), (50, 12))
        self.assertEqual(len(set(ids)), 62)
        self.assertEqual(ids, sorted(ids, reverse=True))

    def test_it_refuses_a_bad_cursor(self):
        token = self.token_for(self.customer)
        for cursor in ("abc", "0", "-5", "1.5", "%00"):
            with self.subTest(cursor=cursor):
                self.assertProblem(
                    self.get(f"/me/access-log?cursor={cursor}", token), 422, "invalid"
                )
