import re
from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from supportpin.access.models import PinAttempt
from supportpin.accounts.actions import SYSTEM, set_staff_active
from supportpin.audit.models import AuditEntry, Event
from supportpin.notify.models import Kind, OutboxMessage
from supportpin.notify.tests.test_outbox import WebhookReceiver
from supportpin.tickets.models import Ticket
from supportpin.web.tests.browser import WebTestCase
from testsupport import START


def ticket_loads(queries: CaptureQueriesContext) -> int:
    """How many of the captured queries read a ticket row (its subject is in every such read)."""
    return sum('"tickets_ticket"."subject"' in q["sql"] for q in queries.captured_queries)


class PanelTestCase(WebTestCase):
    def setUp(self):
        super().setUp()
        self.sign_in_staff(self.supporter)

    def enter_pin(self, pin: str, customer: str = "C-1001", client=None):
        return (client or self.client).post("/support/", {"customer": customer, "pin": pin})

    def open_ticket(self, subject="Server down", products=(), customer=None):
        response = self.post(
            "/me/tickets",
            {"subject": subject, "message": "It does not start.", "products": list(products)},
            self.token_for(customer or self.customer),
        )
        self.assertEqual(response.status_code, 201, response.content)
        return response.json()["id"]

    def webhooks(self):
        return OutboxMessage.objects.filter(kind=Kind.WEBHOOK)


class PanelAccessTests(WebTestCase):
    def test_it_sends_visitors_to_the_staff_sign_in(self):
        for path in ("/support/", "/support/tickets/", "/support/customers/C-1001/"):
            with self.subTest(path):
                response = self.client.get(path)

                self.assertRedirects(
                    response, f"/staff/login/?next={path}", fetch_redirect_response=False
                )

    def test_it_does_not_open_the_panel_to_a_customer_session(self):
        self.sign_in_customer()

        response = self.client.get("/support/")

        self.assertRedirects(
            response, "/staff/login/?next=/support/", fetch_redirect_response=False
        )

    def test_it_does_not_let_a_customer_session_redeem_a_pin(self):
        self.sign_in_customer()

        self.client.post("/support/", {"customer": "C-1001", "pin": self.current_pin()})

        self.assertEqual(self.get("/me/grants", self.token_for(self.customer)).json(), [])


class PinEntryTests(PanelTestCase):
    def test_it_opens_the_customer_page_with_the_right_pin(self):
        pin = self.current_pin()
        spoken = f"{pin[:3]} {pin[3:]}"

        response = self.enter_pin(spoken)

        self.assertRedirects(response, "/support/customers/C-1001/", fetch_redirect_response=False)
        page = self.page("/support/customers/C-1001/")
        self.assertContains(page, "C-1001")
        self.assertContains(page, "Product gs-1")
        self.assertContains(page, "Product vs-1")
        self.assertNotContains(page, "gs-2")
        self.assertNoPersonalData(page)

    def test_it_takes_the_customer_number_in_any_case(self):
        response = self.enter_pin(self.current_pin(), customer="c-1001")

        self.assertRedirects(response, "/support/customers/C-1001/", fetch_redirect_response=False)
        page = self.page("/support/customers/c-1001/")
        self.assertContains(page, "Product gs-1")
        self.assertContains(page, "<h1>Customer C-1001</h1>")
        self.assertFalse(PinAttempt.objects.exists())

    def test_it_explains_a_wrong_pin(self):
        pin = self.current_pin()

        response = self.enter_pin(self.wrong_pin(pin))

        self.assertEqual(response.status_code, 400)
        self.assertCleanPage(response)
        self.assertContains(response, "PIN is wrong", status_code=400)
        self.assertContains(response, 'role="alert"', status_code=400)
        self.assertEqual(self.page("/support/customers/C-1001/", status=404).status_code, 404)

    def test_it_answers_an_unknown_customer_like_a_wrong_pin(self):
        wrong = self.enter_pin(self.wrong_pin(self.current_pin()))
        unknown = self.enter_pin("123456", customer="C-9999")

        self.assertEqual(unknown.status_code, wrong.status_code)
        self.assertEqual(
            unknown.context["form"].non_field_errors(), wrong.context["form"].non_field_errors()
        )

    def test_it_shows_the_blocked_message_after_too_many_wrong_pins(self):
        pin = self.current_pin()
        for n in range(10):
            self.enter_pin(f"{n:06d}", customer=f"C-X{n}")

        response = self.enter_pin(pin)

        self.assertGreaterEqual(response.status_code, 400)
        self.assertLess(response.status_code, 500)
        self.assertContains(response, "blocked", status_code=response.status_code)
        self.assertEqual(self.page("/support/customers/C-1001/", status=404).status_code, 404)

    def block_myself(self):
        """Enter ten wrong PINs, then the right one: the answer of a blocked supporter."""
        pin = self.current_pin()
        for n in range(10):
            self.enter_pin(f"{n:06d}", customer=f"C-X{n}")
        return self.enter_pin(pin)

    def test_it_says_an_admin_was_told_only_when_a_notice_was_queued(self):
        response = self.block_myself()

        self.assertContains(response, "An admin has been told", status_code=400)
        notices = OutboxMessage.objects.filter(kind=Kind.EMAIL, payload__to=["ada@staff.example"])
        self.assertEqual(notices.count(), 1)

    def test_it_says_to_ask_an_admin_when_no_admin_address_is_set_up(self):
        set_staff_active(staff=self.admin, active=False, now=START, by=SYSTEM)

        response = self.block_myself()

        self.assertNotContains(response, "has been told", status_code=400)
        self.assertContains(response, "ask an admin to unlock you", status_code=400)
        blocked = self.redeem(self.current_pin())
        self.assertProblem(blocked, 429, "too_many_attempts")
        self.assertNotIn("told", blocked.json()["detail"])

    def test_it_lists_my_active_access_on_the_home_page(self):
        self.enter_pin(self.current_pin())

        page = self.page("/support/")

        self.assertContains(page, "/support/customers/C-1001/")
        self.assertRegex(page.content.decode(), r"data-countdown-to=")
        self.assertNoPersonalData(page)

    def test_it_refuses_a_pin_redeemed_by_another_supporter(self):
        pin = self.current_pin()
        self.redeem(pin, supporter=self.other_supporter)

        response = self.enter_pin(pin)

        self.assertEqual(response.status_code, 400)
        self.page("/support/customers/C-1001/", status=404)


@override_settings(SUPPORTPIN_ACTION_WEBHOOK_URL="http://hooks.example/actions")
class ProductPageTests(PanelTestCase):
    def setUp(self):
        super().setUp()
        self.enter_pin(self.current_pin())

    def run_worker(self, *, status: int, **settings) -> None:
        receiver = WebhookReceiver(status)
        self.addCleanup(receiver.close)
        with override_settings(
            SUPPORTPIN_ACTION_WEBHOOK_URL=receiver.url,
            SUPPORTPIN_ACTION_WEBHOOK_SECRET="panel-test-secret",
            **settings,
        ):
            call_command("worker", "--once", stdout=StringIO())

    def recent_actions(self, page) -> list[list[str]]:
        """The rows of "Recent actions" as a supporter reads them: action, supporter, delivery."""
        table = page.content.decode().split("Recent actions", 1)[1]
        rows = re.findall(r"<tr><td[^>]*><time[^>]*>[^<]*</time></td>(.*?)</tr>", table, re.S)
        return [
            [
                re.sub(r"<[^>]+>", " ", cell).split()[0]
                for cell in re.findall(r"<td[^>]*>(.*?)</td>", r)
            ]
            for r in rows
        ]

    def test_it_says_an_action_is_requested_and_shows_it_queued(self):
        response = self.client.post(
            "/support/products/gs-1/actions/", {"action": "restart"}, follow=True
        )

        self.assertEqual(
            self.messages_of(response),
            ["“Restart” requested. Whether it got through is shown under “Recent actions”."],
        )
        self.assertEqual(self.recent_actions(response), [["Restart", "sam", "queued"]])
        self.assertNoPersonalData(response)

    def test_it_follows_an_action_on_its_way_until_it_is_delivered(self):
        self.client.post("/support/products/gs-1/actions/", {"action": "restart"})
        page = self.page("/support/products/gs-1/")
        self.assertContains(page, 'hx-get="/support/products/gs-1/deliveries/"')
        self.assertContains(page, 'hx-trigger="every 3s"')

        self.run_worker(status=204)
        polled = self.page("/support/products/gs-1/deliveries/")

        self.assertEqual(self.recent_actions(polled), [["Restart", "sam", "delivered"]])
        self.assertNotContains(polled, "hx-trigger")  # nothing on its way: the polling stops
        self.assertNoPersonalData(polled)

    def test_it_logs_a_polling_page_once_per_five_minutes(self):
        self.client.post("/support/products/gs-1/actions/", {"action": "restart"})
        for second in range(0, 300, 3):  # every 3 s for 5 minutes, from 09:00:00 to 09:04:57
            self.travel_to(START + timedelta(seconds=second))
            self.page("/support/products/gs-1/deliveries/")

        polls = AuditEntry.objects.filter(event=Event.ACCESS_DECIDED, product="gs-1")
        self.assertEqual([(e.actor, e.detail["via"]) for e in polls], [("Sam S.", "product page")])

    def test_it_shows_the_deliveries_only_to_whoever_may_reach_the_product(self):
        self.client.post("/support/products/gs-1/actions/", {"action": "restart"})
        other = self.browser()
        self.sign_in_staff(self.other_supporter, client=other)

        response = other.get("/support/products/gs-1/deliveries/")

        self.assertEqual(response.status_code, 404)
        self.assertNotContains(response, "Restart", status_code=404)

    def test_it_says_in_auftrag_gegeben_in_german(self):
        self.client.cookies["django_language"] = "de"

        response = self.client.post(
            "/support/products/gs-1/actions/", {"action": "restart"}, follow=True
        )

        self.assertEqual(
            self.messages_of(response),
            [
                "„Neu starten“ in Auftrag gegeben. "
                "Ob es angekommen ist, sehen Sie unter „Letzte Aktionen“."
            ],
        )
        self.assertContains(response, "Letzte Aktionen")
        self.assertContains(response, "wartet auf Zustellung")

    @override_settings(SUPPORTPIN_ACTION_WEBHOOK_URL="")
    def test_it_names_the_setting_in_german_too(self):
        self.client.cookies["django_language"] = "de"

        page = self.page("/support/products/gs-1/")

        self.assertContains(
            page, "Ein Admin schaltet sie ein, indem er <code>SUPPORTPIN_ACTION_WEBHOOK_URL</code>"
        )

    def test_it_shows_which_actions_were_delivered_and_which_failed(self):
        # "stop" cannot be undone: the supporter confirms it (confirm=yes).
        self.client.post("/support/products/gs-1/actions/", {"action": "stop", "confirm": "yes"})
        self.run_worker(status=204)
        self.client.post("/support/products/gs-1/actions/", {"action": "start"})
        self.run_worker(status=500, SUPPORTPIN_OUTBOX_MAX_ATTEMPTS=1)

        page = self.page("/support/products/gs-1/")

        self.assertEqual(
            self.recent_actions(page), [["Start", "sam", "failed"], ["Stop", "sam", "delivered"]]
        )
        self.assertContains(page, "1 attempt: HTTP Error 500")
        self.client.cookies["django_language"] = "de"
        german = self.page("/support/products/gs-1/")
        self.assertContains(german, "fehlgeschlagen")
        self.assertContains(german, "zugestellt")
        self.assertContains(german, "1 Versuch: HTTP Error 500")

    def test_it_shows_the_actions_of_this_product_only(self):
        self.client.post("/support/products/vs-1/actions/", {"action": "reinstall"})

        self.assertEqual(self.recent_actions(self.page("/support/products/gs-1/")), [])

    def test_it_shows_no_recent_actions_to_a_supporter_without_access(self):
        self.client.post("/support/products/gs-1/actions/", {"action": "restart"})
        outsider = self.browser()
        self.sign_in_staff(self.other_supporter, client=outsider)

        page = self.page("/support/products/gs-1/", status=404, client=outsider)

        self.assertNotContains(page, "restart", status_code=404)

    @override_settings(SUPPORTPIN_ACTION_WEBHOOK_URL="")
    def test_it_offers_no_actions_without_a_webhook_address_and_says_what_to_set(self):
        page = self.page("/support/products/gs-1/")

        self.assertNotContains(page, 'name="action"')
        self.assertContains(page, "<code>SUPPORTPIN_ACTION_WEBHOOK_URL</code>")

    @override_settings(SUPPORTPIN_ACTION_WEBHOOK_URL="")
    def test_it_refuses_an_action_posted_without_a_webhook_address(self):
        response = self.client.post(
            "/support/products/gs-1/actions/", {"action": "restart"}, follow=True
        )

        self.assertEqual(
            self.messages_of(response), ["Product actions are off: no webhook address is set."]
        )
        self.assertFalse(self.webhooks().exists())
        self.assertFalse(AuditEntry.objects.filter(event=Event.PRODUCT_ACTION).exists())

    def test_it_shows_a_product_and_writes_a_product_read_entry(self):
        before = AuditEntry.objects.filter(event=Event.PRODUCT_READ).count()

        page = self.page("/support/products/gs-1/")

        self.assertContains(page, "Product gs-1")
        self.assertContains(page, "fra-1")
        self.assertNoPersonalData(page)
        entries = AuditEntry.objects.filter(event=Event.PRODUCT_READ)
        self.assertEqual(entries.count(), before + 1)
        entry = entries.order_by("-id").first()
        self.assertEqual((entry.product, entry.actor, entry.basis), ("gs-1", "Sam S.", "pin"))

    def test_it_hides_another_customers_product_and_logs_no_read(self):
        before = AuditEntry.objects.filter(event=Event.PRODUCT_READ).count()

        page = self.page("/support/products/gs-2/", status=404)

        self.assertNotContains(page, "Product gs-2", status_code=404)
        self.assertEqual(AuditEntry.objects.filter(event=Event.PRODUCT_READ).count(), before)
        self.page("/support/customers/C-2002/", status=404)

    def test_it_queues_a_webhook_for_a_product_action(self):
        response = self.client.post(
            "/support/products/gs-1/actions/", {"action": "restart"}, follow=True
        )

        self.assertRedirects(response, "/support/products/gs-1/")
        self.assertTrue(any("Restart" in m for m in self.messages_of(response)))
        hook = self.webhooks().get()
        self.assertEqual(
            (hook.payload["action"], hook.payload["product"], hook.payload["supporter"]),
            ("restart", "gs-1", "sam"),
        )
        self.assertTrue(
            AuditEntry.objects.filter(event=Event.PRODUCT_ACTION, product="gs-1").exists()
        )

    def test_it_refuses_a_product_action_without_access(self):
        response = self.client.post("/support/products/gs-2/actions/", {"action": "restart"})

        self.assertEqual(response.status_code, 404)
        self.assertFalse(self.webhooks().exists())

    def test_it_refuses_an_unknown_action(self):
        response = self.client.post(
            "/support/products/gs-1/actions/", {"action": "rm -rf"}, follow=True
        )

        self.assertEqual(response.status_code, 200)
        self.assertTrue(self.messages_of(response))
        self.assertFalse(self.webhooks().exists())

    def test_it_refuses_a_product_action_on_get(self):
        self.assertEqual(self.client.get("/support/products/gs-1/actions/").status_code, 405)
        self.assertFalse(self.webhooks().exists())

    def test_it_ends_the_access_with_deactivate(self):
        grant_id = self.get("/support/grants", self.token_for(self.supporter)).json()[0]["id"]

        response = self.client.post(f"/support/grants/{grant_id}/deactivate/", follow=True)

        self.assertRedirects(response, "/support/")
        self.assertTrue(any("deactivated" in m for m in self.messages_of(response)))
        self.page("/support/products/gs-1/", status=404)
        self.page("/support/customers/C-1001/", status=404)
        self.assertEqual(
            self.get("/support/products/gs-1", self.token_for(self.supporter)).status_code, 404
        )

    def test_it_does_not_let_another_supporter_deactivate_my_access(self):
        grant_id = self.get("/support/grants", self.token_for(self.supporter)).json()[0]["id"]
        olga = self.browser()
        self.sign_in_staff(self.other_supporter, client=olga)

        olga.post(f"/support/grants/{grant_id}/deactivate/")

        self.page("/support/products/gs-1/")

    def test_it_ends_the_access_when_the_pin_expires(self):
        self.travel_to(START + timedelta(minutes=59, seconds=59))
        self.page("/support/products/gs-1/")

        self.travel_to(START + timedelta(minutes=60))

        self.page("/support/products/gs-1/", status=404)


class QueueTests(PanelTestCase):
    def setUp(self):
        super().setUp()
        token = self.token_for(self.supporter)
        olga = self.token_for(self.other_supporter)
        self.unclaimed = self.open_ticket("Unclaimed one")
        self.travel_to(START + timedelta(seconds=1))
        self.mine = self.open_ticket("Mine one")
        self.post(f"/support/tickets/{self.mine}/claim", token=token)
        self.travel_to(START + timedelta(seconds=2))
        self.olgas = self.open_ticket("Olgas answered one", customer=self.other_customer)
        self.post(f"/support/tickets/{self.olgas}/claim", token=olga)
        self.post(f"/support/tickets/{self.olgas}/messages", {"body": "Done?"}, token=olga)

    def subjects(self, view: str) -> set[str]:
        html = self.page(f"/support/tickets/?view={view}").content.decode()
        return set(re.findall(r'<a href="/support/tickets/[0-9]+/">([^<]+)</a>', html))

    def test_it_filters_the_queue(self):
        self.assertEqual(self.subjects("unclaimed"), {"Unclaimed one"})
        self.assertEqual(self.subjects("mine"), {"Mine one"})
        self.assertEqual(self.subjects("waiting"), {"Unclaimed one", "Mine one"})
        self.assertEqual(self.subjects("all"), {"Unclaimed one", "Mine one", "Olgas answered one"})

    def test_it_shows_unclaimed_tickets_by_default_and_for_an_unknown_view(self):
        self.assertEqual(self.subjects("nonsense"), {"Unclaimed one"})
        html = self.page("/support/tickets/").content.decode()
        self.assertIn("Unclaimed one", html)
        self.assertNotIn("Mine one", html)

    def test_it_shows_customer_numbers_but_no_personal_data(self):
        page = self.page("/support/tickets/?view=all")

        self.assertContains(page, "C-1001")
        self.assertContains(page, "C-2002")
        self.assertNoPersonalData(page)

    def test_it_pages_the_queue_with_a_cursor(self):
        for n in range(26):
            self.travel_to(START + timedelta(minutes=1 + n))
            self.open_ticket(f"Paged {n:02d}")

        first = self.page("/support/tickets/?view=unclaimed").content.decode()
        self.assertIn("Paged 25", first)
        self.assertNotIn("Paged 00", first)
        link = re.search(r'href="\?view=unclaimed&amp;cursor=([^"]+)"', first)
        self.assertIsNotNone(link)
        second = self.page(f"/support/tickets/?view=unclaimed&cursor={link.group(1)}")
        self.assertContains(second, "Paged 00")
        self.assertContains(second, "Unclaimed one")
        self.assertNotContains(second, "Paged 01")

    def test_it_survives_a_bad_cursor(self):
        self.assertContains(self.page("/support/tickets/?view=all&cursor=%%%"), "Mine one")


class PanelTicketTests(PanelTestCase):
    def setUp(self):
        super().setUp()
        self.ticket = self.open_ticket(products=["gs-1"])
        self.path = f"/support/tickets/{self.ticket}/"

    def change(self, change: str, client=None):
        return (client or self.client).post(f"{self.path}{change}/", follow=True)

    def test_it_shows_an_unclaimed_ticket_read_only_with_a_claim_button(self):
        page = self.page(self.path)

        self.assertContains(page, 'data-testid="read-only"')
        self.assertContains(page, f"{self.path}claim/")
        self.assertNotContains(page, 'name="body"')
        self.assertContains(page, "It does not start.")
        self.assertNoPersonalData(page)

    def test_it_claims_replies_closes_reopens_and_releases(self):
        claimed = self.change("claim")
        self.assertRedirects(claimed, self.path)
        self.assertNotContains(claimed, 'data-testid="read-only"')
        self.assertContains(claimed, 'name="body"')
        self.page("/support/products/gs-1/")
        self.page("/support/products/vs-1/", status=404)

        replied = self.client.post(self.path, {"body": "Restarting it now."}, follow=True)
        self.assertContains(replied, "Restarting it now.")
        self.assertEqual(Ticket.objects.get(pk=self.ticket).status, "answered")

        closed = self.change("close")
        self.assertContains(closed, 'data-testid="read-only"')
        self.assertContains(closed, f"{self.path}reopen/")
        self.page("/support/products/gs-1/", status=404)

        reopened = self.change("reopen")
        self.assertContains(reopened, 'name="body"')
        self.page("/support/products/gs-1/")

        released = self.change("release")
        self.assertContains(released, f"{self.path}claim/")
        self.page("/support/products/gs-1/", status=404)

    def test_it_shows_a_ticket_held_by_another_supporter_read_only(self):
        self.post(
            f"/support/tickets/{self.ticket}/claim", token=self.token_for(self.other_supporter)
        )

        page = self.page(self.path)

        self.assertContains(page, 'data-testid="read-only"')
        self.assertContains(page, "Olga O.")
        self.assertNotContains(page, 'name="body"')
        self.assertNotContains(page, f"{self.path}claim/")

    def test_it_shows_the_conflict_when_another_supporter_claimed_first(self):
        self.post(
            f"/support/tickets/{self.ticket}/claim", token=self.token_for(self.other_supporter)
        )

        response = self.change("claim")

        self.assertTrue(any("Another supporter" in m for m in self.messages_of(response)))
        self.assertEqual(Ticket.objects.get(pk=self.ticket).assignee, self.other_supporter)
        self.page("/support/products/gs-1/", status=404)

    def test_it_refuses_writes_by_a_non_assignee(self):
        self.post(
            f"/support/tickets/{self.ticket}/claim", token=self.token_for(self.other_supporter)
        )

        replied = self.client.post(self.path, {"body": "Sneaky"}, follow=True)
        self.assertTrue(any("holds this ticket" in m for m in self.messages_of(replied)))
        self.assertNotContains(replied, "Sneaky")
        for change in ("close", "release"):
            with self.subTest(change):
                self.change(change)
                ticket = Ticket.objects.get(pk=self.ticket)
                self.assertEqual((ticket.status, ticket.assignee), ("open", self.other_supporter))

    def test_it_refuses_ticket_changes_on_get(self):
        self.assertEqual(self.client.get(f"{self.path}claim/").status_code, 405)
        self.assertIsNone(Ticket.objects.get(pk=self.ticket).assignee)

    def test_it_shows_a_closed_ticket_read_only(self):
        self.post(f"/me/tickets/{self.ticket}/close", token=self.token_for(self.customer))

        page = self.page(self.path)

        self.assertContains(page, 'data-testid="read-only"')
        self.assertNotContains(page, f"{self.path}claim/")
        self.assertNotContains(page, 'name="body"')
        claimed = self.change("claim")
        self.assertTrue(any("closed" in m for m in self.messages_of(claimed)))

    def test_it_offers_no_reopen_on_a_ticket_the_customer_closed_and_words_the_refusal(self):
        self.change("claim")
        self.post(f"/me/tickets/{self.ticket}/close", token=self.token_for(self.customer))

        page = self.page(self.path)

        self.assertContains(page, "the customer closed this ticket")
        self.assertNotContains(page, f"{self.path}reopen/")
        refused = self.change("reopen")
        self.assertIn(
            "The customer closed this ticket, so only the customer can reopen it.",
            self.messages_of(refused),
        )
        self.assertEqual(Ticket.objects.get(pk=self.ticket).status, "closed")
        self.page("/support/products/gs-1/", status=404)

    def test_it_loads_the_ticket_once_for_a_reply_and_once_for_the_page(self):
        self.change("claim")

        with CaptureQueriesContext(connection) as replying:
            replied = self.client.post(self.path, {"body": "On it."})
        with CaptureQueriesContext(connection) as showing:
            self.page(self.path)

        self.assertEqual(replied.status_code, 302)
        self.assertEqual(ticket_loads(replying), 1)
        self.assertEqual(ticket_loads(showing), 1)

    def test_it_shows_a_locked_ticket_read_only(self):
        self.change("claim")
        self.travel_to(START + timedelta(days=30))
        self.sign_in_staff(self.supporter)

        page = self.page(self.path)

        self.assertContains(page, 'data-testid="read-only"')
        self.assertContains(page, "locked")
        self.assertNotContains(page, 'name="body"')
        self.assertNotContains(page, f"{self.path}close/")
        response = self.client.post(self.path, {"body": "Late"}, follow=True)
        self.assertTrue(any("locked" in m for m in self.messages_of(response)))
        self.assertNotContains(response, "Late")
        self.page("/support/products/gs-1/", status=404)

    def test_it_shows_a_missing_ticket_as_not_found(self):
        self.page("/support/tickets/999999/", status=404)


class PanelPersonalDataTests(PanelTestCase):
    @override_settings(SUPPORTPIN_ACTION_WEBHOOK_URL="http://hooks.example/actions")
    def test_it_shows_no_personal_data_on_any_supporter_page(self):
        self.enter_pin(self.current_pin())
        ticket = self.open_ticket(products=["gs-1"])
        self.client.post(f"/support/tickets/{ticket}/claim/")
        self.client.post(f"/support/tickets/{ticket}/", {"body": "On it."})
        self.client.post("/support/products/gs-1/actions/", {"action": "restart"})
        pages = [
            "/support/",
            "/support/customers/C-1001/",
            "/support/products/gs-1/",
            "/support/products/vs-1/",
            f"/support/tickets/{ticket}/",
        ] + [f"/support/tickets/?view={v}" for v in ("unclaimed", "mine", "waiting", "all")]

        for path in pages:
            with self.subTest(path):
                self.assertNoPersonalData(self.page(path))
        self.assertNoPersonalData(self.enter_pin("000000", customer="C-2002"))


class OddAddressTests(WebTestCase):
    def test_it_answers_ids_with_odd_characters_as_not_found(self):
        self.sign_in_staff()

        for path in ("/support/products/%00/", "/support/customers/a%20b/", "/support/products/ü/"):
            with self.subTest(path=path):
                self.assertEqual(self.client.get(path).status_code, 404)

    def test_it_shows_the_apps_own_not_found_page(self):
        response = self.client.get("/no/such/page/")

        self.assertEqual(response.status_code, 404)
        self.assertContains(response, "Support-PIN", status_code=404)
