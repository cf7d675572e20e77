import base64
import re
from datetime import timedelta

from supportpin.tickets.models import Message, Ticket
from supportpin.web.tests.browser import CONFIRMED, WebTestCase
from testsupport import START, personal_markers

PORTAL_PAGES = [
    "/portal/",
    "/portal/support/",
    "/portal/data/",
    "/portal/access/",
    "/portal/tickets/",
    "/portal/tickets/new/",
]
PIN_ON_PAGE = re.compile(r'data-testid="pin"[^>]*>\s*([0-9 ]+?)\s*<')


class PortalTestCase(WebTestCase):
    def setUp(self):
        super().setUp()
        self.sign_in_customer()

    def open_ticket(self, subject="Server down", products=(), **extra):
        data = {"subject": subject, "message": "It does not start.", "products": list(products)}
        response = self.client.post("/portal/tickets/new/", {**data, **extra})
        self.assertEqual(response.status_code, 302, response.content[:3000])
        return Ticket.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))

    def travel_and_sign_in(self, moment):
        """Travel far (the 12 h session ends on the way) and sign in again."""
        self.travel_to(moment)
        self.sign_in_customer()

    def pin_on_page(self) -> str:
        match = PIN_ON_PAGE.search(self.page("/portal/support/").content.decode())
        self.assertIsNotNone(match)
        return match.group(1)


class PortalAccessTests(WebTestCase):
    def test_it_sends_visitors_to_the_sign_in_page(self):
        for path in [*PORTAL_PAGES, "/portal/tickets/1/"]:
            with self.subTest(path):
                response = self.client.get(path)

                self.assertRedirects(
                    response, f"/login/?next={path}", fetch_redirect_response=False
                )

    def test_it_refuses_portal_posts_without_a_customer(self):
        for path in ("/portal/support/new/", "/portal/tickets/new/"):
            with self.subTest(path):
                response = self.client.post(path, {"subject": "x", "message": "y"})

                self.assertEqual(response.status_code, 302)
                self.assertTrue(response["Location"].startswith("/login/"))
        self.assertFalse(Ticket.objects.exists())

    def test_it_does_not_open_the_portal_to_a_staff_session(self):
        self.sign_in_staff(self.admin)

        for path in PORTAL_PAGES:
            with self.subTest(path):
                response = self.client.get(path)

                self.assertRedirects(
                    response, f"/login/?next={path}", fetch_redirect_response=False
                )

    def test_it_shows_every_portal_page_to_the_customer(self):
        self.sign_in_customer()

        for path in PORTAL_PAGES:
            with self.subTest(path):
                self.page(path)


class SupportPageTests(PortalTestCase):
    def test_it_shows_the_pin_grouped_with_a_countdown_and_a_copy_button(self):
        response = self.page("/portal/support/")

        pin = self.current_pin()
        self.assertRegex(pin, r"^[0-9]{6}$")
        self.assertEqual(self.pin_on_page(), f"{pin[:3]} {pin[3:]}")
        html = response.content.decode()
        expires = (START + timedelta(minutes=60)).isoformat()
        self.assertRegex(html, rf'data-countdown-to="{re.escape(expires)}"')
        self.assertRegex(html, rf'<button[^>]*data-copy="{pin}"')
        self.assertContains(response, "C-1001")

    def test_it_shows_the_same_pin_until_the_customer_asks_for_a_new_one(self):
        self.assertEqual(self.pin_on_page(), self.pin_on_page())

    def test_it_rotates_the_pin_with_new_pin(self):
        old = self.pin_on_page()

        response = self.client.post("/portal/support/new/", follow=True)

        self.assertRedirects(response, "/portal/support/")
        new = PIN_ON_PAGE.search(response.content.decode()).group(1)
        self.assertNotEqual(new, old)
        self.assertEqual(self.redeem(old.replace(" ", "")).status_code, 403)
        self.assertEqual(self.redeem(new).status_code, 201)

    def test_it_does_not_rotate_on_get(self):
        old = self.pin_on_page()

        response = self.client.get("/portal/support/new/")

        self.assertEqual(response.status_code, 405)
        self.assertEqual(self.pin_on_page(), old)

    def test_it_shows_who_holds_the_pin_and_revokes_the_access(self):
        pin = self.pin_on_page().replace(" ", "")
        grant_id = self.redeem(pin).json()["id"]
        token = self.token_for(self.supporter)
        self.assertEqual(self.get("/support/products/gs-1", token).status_code, 200)

        page = self.page("/portal/support/")
        self.assertContains(page, "Sam S.")
        self.assertContains(page, f"/portal/support/grants/{grant_id}/revoke/")
        response = self.client.post(
            f"/portal/support/grants/{grant_id}/revoke/", CONFIRMED, follow=True
        )

        self.assertRedirects(response, "/portal/support/")
        self.assertNotContains(response, "Sam S.")
        self.assertTrue(any("revoked" in m for m in self.messages_of(response)))
        self.assertEqual(self.get("/support/products/gs-1", token).status_code, 404)
        self.assertNotEqual(self.pin_on_page().replace(" ", ""), pin)

    def test_it_shows_a_redemption_made_in_the_supporter_panel(self):
        pin = self.pin_on_page()
        supporter = self.browser()
        self.sign_in_staff(self.supporter, client=supporter)
        supporter.post("/support/", {"customer": "C-1001", "pin": pin})

        self.assertContains(self.page("/portal/support/"), "Sam S.")

    def test_it_does_not_revoke_another_customers_grant(self):
        other_pin = self.current_pin(self.other_customer)
        grant_id = self.redeem(other_pin, customer="C-2002").json()["id"]

        response = self.client.post(
            f"/portal/support/grants/{grant_id}/revoke/", CONFIRMED, follow=True
        )

        self.assertEqual(response.status_code, 200)
        self.assertFalse(any("revoked" in m for m in self.messages_of(response)))
        token = self.token_for(self.supporter)
        self.assertEqual(self.get("/support/products/gs-2", token).status_code, 200)


class ProductsAndDataPageTests(PortalTestCase):
    def test_it_lists_own_products_only(self):
        response = self.page("/portal/")

        self.assertContains(response, "Product gs-1")
        self.assertContains(response, "Product vs-1")
        self.assertNotContains(response, "Product gs-2")

    def test_it_shows_the_customers_personal_data(self):
        response = self.page("/portal/data/")

        for marker in personal_markers("C-1001").values():
            self.assertContains(response, marker)
        for marker in personal_markers("C-2002").values():
            self.assertNotContains(response, marker)


class PortalTicketTests(PortalTestCase):
    def test_it_offers_only_own_products_when_opening_a_ticket(self):
        response = self.page("/portal/tickets/new/")

        self.assertContains(response, 'value="gs-1"')
        self.assertContains(response, 'value="vs-1"')
        self.assertNotContains(response, "gs-2")

    def test_it_opens_a_ticket_about_an_own_product(self):
        ticket = self.open_ticket(products=["gs-1"])

        self.assertEqual(list(ticket.products.values_list("pk", flat=True)), ["gs-1"])
        page = self.page(f"/portal/tickets/{ticket.pk}/")
        self.assertContains(page, "Server down")
        self.assertContains(page, "It does not start.")
        self.assertContains(page, "Product gs-1")

    def test_it_refuses_a_ticket_about_another_customers_product(self):
        response = self.client.post(
            "/portal/tickets/new/", {"subject": "x", "message": "y", "products": ["gs-2"]}
        )

        self.assertEqual(response.status_code, 400)
        self.assertFalse(Ticket.objects.exists())

    def test_it_refuses_a_ticket_without_a_subject(self):
        response = self.client.post("/portal/tickets/new/", {"subject": "", "message": "y"})

        self.assertEqual(response.status_code, 400)
        self.assertCleanPage(response)
        self.assertFalse(Ticket.objects.exists())

    def test_it_lists_own_tickets_newest_first(self):
        first = self.open_ticket("First")
        self.travel_to(START + timedelta(minutes=1))
        second = self.open_ticket("Second")
        other = self.browser()
        self.sign_in_customer(self.other_customer, client=other)
        other.post("/portal/tickets/new/", {"subject": "Foreign", "message": "y"})

        html = self.page("/portal/tickets/").content.decode()

        self.assertLess(
            html.index(f"/portal/tickets/{second.pk}/"), html.index(f"/portal/tickets/{first.pk}/")
        )
        self.assertNotIn("Foreign", html)

    def test_it_sends_a_reply_in_the_conversation(self):
        ticket = self.open_ticket()

        response = self.client.post(
            f"/portal/tickets/{ticket.pk}/", {"body": "Still broken."}, follow=True
        )

        self.assertRedirects(response, f"/portal/tickets/{ticket.pk}/")
        self.assertContains(response, "Still broken.")
        self.assertEqual(ticket.messages.count(), 2)

    def test_it_refuses_an_empty_reply(self):
        ticket = self.open_ticket()

        response = self.client.post(f"/portal/tickets/{ticket.pk}/", {"body": ""})

        self.assertEqual(response.status_code, 400)
        self.assertEqual(ticket.messages.count(), 1)

    def test_it_closes_and_reopens_a_ticket(self):
        ticket = self.open_ticket()

        closed = self.client.post(f"/portal/tickets/{ticket.pk}/close/", follow=True)
        self.assertContains(closed, f"/portal/tickets/{ticket.pk}/reopen/")
        self.assertNotContains(closed, f"/portal/tickets/{ticket.pk}/close/")
        reopened = self.client.post(f"/portal/tickets/{ticket.pk}/reopen/", follow=True)

        self.assertContains(reopened, f"/portal/tickets/{ticket.pk}/close/")
        ticket.refresh_from_db()
        self.assertEqual(ticket.status, "open")

    def test_it_does_not_close_on_get(self):
        ticket = self.open_ticket()

        self.assertEqual(self.client.get(f"/portal/tickets/{ticket.pk}/close/").status_code, 405)
        ticket.refresh_from_db()
        self.assertEqual(ticket.status, "open")

    def test_it_shows_a_locked_ticket_read_only_with_a_follow_up_link(self):
        ticket = self.open_ticket()
        self.travel_and_sign_in(START + timedelta(days=30))

        page = self.page(f"/portal/tickets/{ticket.pk}/")

        self.assertContains(page, f"/portal/tickets/new/?follows={ticket.pk}")
        self.assertNotContains(page, 'name="body"')
        self.assertNotContains(page, f"/portal/tickets/{ticket.pk}/close/")
        follow_up = self.page(f"/portal/tickets/new/?follows={ticket.pk}")
        self.assertContains(follow_up, f'name="follows" value="{ticket.pk}"')

    def test_it_shows_a_ticket_one_second_before_the_lock_writable(self):
        ticket = self.open_ticket()
        self.travel_and_sign_in(START + timedelta(days=30) - timedelta(seconds=1))

        self.assertContains(self.page(f"/portal/tickets/{ticket.pk}/"), 'name="body"')

    def test_it_refuses_posts_to_a_locked_ticket_with_a_message(self):
        ticket = self.open_ticket()
        self.travel_and_sign_in(START + timedelta(days=30))

        for path, data in (
            (f"/portal/tickets/{ticket.pk}/", {"body": "Hello?"}),
            (f"/portal/tickets/{ticket.pk}/close/", {}),
        ):
            with self.subTest(path):
                response = self.client.post(path, data, follow=True)

                self.assertRedirects(response, f"/portal/tickets/{ticket.pk}/")
                self.assertTrue(any("locked" in m for m in self.messages_of(response)))
        self.assertEqual(ticket.messages.count(), 1)
        self.assertNotEqual(Ticket.objects.get(pk=ticket.pk).status, "closed")

    def test_it_opens_a_follow_up_of_a_locked_ticket(self):
        ticket = self.open_ticket()
        self.travel_and_sign_in(START + timedelta(days=30))

        follow_up = self.open_ticket("Again", follows=ticket.pk)

        self.assertEqual(follow_up.follows_id, ticket.pk)
        self.assertContains(self.page(f"/portal/tickets/{follow_up.pk}/"), f"#{ticket.pk}")

    def test_it_hides_another_customers_ticket(self):
        other = self.browser()
        self.sign_in_customer(self.other_customer, client=other)
        other.post("/portal/tickets/new/", {"subject": "Foreign", "message": "secret words"})
        foreign = Ticket.objects.get(subject="Foreign")

        page = self.page(f"/portal/tickets/{foreign.pk}/", status=404)
        self.assertNotContains(page, "secret words", status_code=404)
        reply = self.client.post(f"/portal/tickets/{foreign.pk}/", {"body": "hijack"})
        self.assertEqual(reply.status_code, 404)
        self.client.post(f"/portal/tickets/{foreign.pk}/close/")
        self.assertEqual(Message.objects.filter(ticket=foreign).count(), 1)
        self.assertEqual(Ticket.objects.get(pk=foreign.pk).status, "open")
        follow = self.client.post(
            "/portal/tickets/new/", {"subject": "x", "message": "y", "follows": foreign.pk}
        )
        self.assertEqual(follow.status_code, 400)

    def test_it_answers_a_bad_cursor_without_an_error(self):
        self.open_ticket()

        response = self.client.get("/portal/tickets/?cursor=not-a-cursor")

        self.assertLess(response.status_code, 500)

    def test_it_shows_the_first_page_for_a_cursor_at_the_ends_of_the_calendar(self):
        self.open_ticket("Server down")

        for raw in ("0001-01-01T00:00:00+01:00|1", "9999-12-31T23:59:59-01:00|1"):
            with self.subTest(raw):
                cursor = base64.urlsafe_b64encode(raw.encode()).decode()
                self.assertContains(self.page(f"/portal/tickets/?cursor={cursor}"), "Server down")

    def test_it_pages_the_ticket_list(self):
        for n in range(26):
            self.travel_to(START + timedelta(minutes=n))
            self.open_ticket(f"Ticket number {n:02d}")

        first = self.page("/portal/tickets/").content.decode()
        self.assertIn("Ticket number 25", first)
        self.assertNotIn("Ticket number 00", first)
        cursor = re.search(r'href="\?cursor=([^"]+)"', first).group(1)
        second = self.page(f"/portal/tickets/?cursor={cursor}").content.decode()
        self.assertIn("Ticket number 00", second)
        self.assertNotIn("Ticket number 01", second)


class AccessLogPageTests(PortalTestCase):
    def test_it_lists_supporter_reads_newest_first_with_older_entries_after_25(self):
        self.redeem(self.current_pin())
        token = self.token_for(self.supporter)
        for n in range(30):
            self.travel_to(START + timedelta(minutes=1 + n))
            self.assertEqual(self.get("/support/products/gs-1", token).status_code, 200)

        first = self.page("/portal/access/").content.decode()

        times = re.findall(r'<time datetime="([^"]+)"', first)
        self.assertEqual(len(re.findall(r'data-testid="access-entry"', first)), 25)
        self.assertEqual(times, sorted(times, reverse=True))
        self.assertEqual(times[0], (START + timedelta(minutes=30)).isoformat())
        self.assertIn("Sam S.", first)
        cursor = re.search(r'href="\?cursor=([0-9]+)"', first).group(1)
        second = self.page(f"/portal/access/?cursor={cursor}").content.decode()
        older = re.findall(r'<time datetime="([^"]+)"', second)
        self.assertTrue(older)
        self.assertLess(older[0], times[-1])
        self.assertEqual(older, sorted(older, reverse=True))

    def test_it_shows_the_newest_entries_for_a_cursor_that_is_no_number(self):
        self.redeem(self.current_pin())

        for cursor in ("%C2%B2", "1" * 5000, "-3", "x"):
            with self.subTest(cursor=cursor[:10]):
                self.assertContains(self.page(f"/portal/access/?cursor={cursor}"), "Sam S.")

    def test_it_has_no_older_entries_link_for_a_short_log(self):
        self.redeem(self.current_pin())

        page = self.page("/portal/access/")

        self.assertContains(page, "Sam S.")
        self.assertNotContains(page, "?cursor=")

    def test_it_shows_only_the_customers_own_entries(self):
        self.redeem(self.current_pin(self.other_customer), customer="C-2002")
        self.get("/support/products/gs-2", self.token_for(self.supporter))

        page = self.page("/portal/access/")

        self.assertNotContains(page, "Sam S.")
        self.assertNotContains(page, "gs-2")

    def test_it_names_the_customers_own_steps_as_theirs_not_by_number(self):
        self.current_pin()

        page = self.page("/portal/access/").content.decode()

        entry = re.search(r'data-testid="access-entry">(.*?)</li>', page, re.S).group(1)
        self.assertIn("You", entry)
        self.assertNotIn("C-1001", entry)
