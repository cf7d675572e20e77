"""Issue 10's stumbles, as the pages show them: states that were silent, raw words, markup."""

import re
from datetime import timedelta

from django.test import override_settings

from supportpin.accounts.models import Staff
from supportpin.audit.models import AuditEntry, Event
from supportpin.lib import clock
from supportpin.products.models import Product
from supportpin.web.tests.browser import CONFIRMED, WebTestCase
from testsupport import START

DAY = timedelta(days=1)


class TicketShortcuts(WebTestCase):
    def open_ticket(self, **fields) -> int:
        body = {"subject": "Server down", "message": "It does not start.", **fields}
        response = self.post("/me/tickets", body, self.token_for(self.customer))
        self.assertEqual(response.status_code, 201, response.content)
        return response.json()["id"]

    def answer(self, ticket_id: int) -> None:
        token = self.token_for(self.supporter)
        self.assertEqual(
            self.post(f"/support/tickets/{ticket_id}/claim", None, token).status_code, 200
        )
        reply = self.post(f"/support/tickets/{ticket_id}/messages", {"body": "Restarted."}, token)
        self.assertEqual(reply.status_code, 201, reply.content)


class LockedPinNoticeTests(WebTestCase):
    def test_it_tells_the_customer_why_the_pin_was_replaced_after_five_wrong_entries(self):
        self.sign_in_customer()
        pin = self.current_pin()
        for _ in range(5):
            self.redeem(self.wrong_pin(pin))

        page = self.page("/portal/support/")

        self.assertContains(page, "Your PIN was locked after 5 wrong entries; here is a new one.")
        self.assertNotIn(pin, page.content.decode().replace(" ", ""))

    def test_it_says_nothing_of_a_lock_when_the_pin_was_only_replaced(self):
        self.sign_in_customer()
        self.current_pin()
        self.client.post("/portal/support/new/")

        self.assertNotContains(self.page("/portal/support/"), "was locked")

    def test_it_names_the_reason_of_every_deactivation_in_the_access_log(self):
        self.sign_in_customer()
        pin = self.current_pin()
        for _ in range(5):
            self.redeem(self.wrong_pin(pin))
        self.redeem(self.current_pin())
        grant_id = self.get("/support/grants", self.token_for(self.supporter)).json()[0]["id"]
        self.client.post(f"/portal/support/grants/{grant_id}/revoke/", CONFIRMED)

        page = self.page("/portal/access/")

        reasons = re.findall(r'data-testid="end-reason">([^<]+)<', page.content.decode())
        self.assertEqual(reasons, ["you revoked it", "locked after too many wrong entries"])
        deactivations = AuditEntry.objects.filter(event=Event.PIN_DEACTIVATED).count()
        self.assertEqual(len(reasons), deactivations)

    def test_it_names_the_reason_in_german_by_default(self):
        self.sign_in_customer()
        pin = self.current_pin()
        for _ in range(5):
            self.redeem(self.wrong_pin(pin))
        self.client.cookies["django_language"] = "de"

        page = self.page("/portal/access/")

        self.assertContains(page, "nach zu vielen falschen Eingaben gesperrt")


class BlockedSupporterTests(WebTestCase):
    def test_it_tells_a_blocked_supporter_on_arrival(self):
        self.sign_in_staff()
        for n in range(10):
            self.post(
                "/support/pin-redemptions",
                {"customer": f"C-X{n}", "pin": "000000"},
                self.token_for(self.supporter),
            )

        page = self.page("/support/")

        self.assertContains(page, 'data-testid="blocked"')
        self.assertContains(page, "until an admin unlocks you")
        self.assertNotContains(page, 'name="pin"')

    def test_it_offers_the_pin_form_to_a_supporter_who_is_not_blocked(self):
        self.sign_in_staff()

        page = self.page("/support/")

        self.assertNotContains(page, 'data-testid="blocked"')
        self.assertContains(page, 'name="pin"')


class TicketDatesTests(TicketShortcuts):
    def test_it_shows_both_sides_the_auto_close_in_the_last_two_days(self):
        ticket_id = self.open_ticket()
        self.answer(ticket_id)

        self.travel_to(START + 12 * DAY - timedelta(seconds=1))
        self.sign_in_customer()
        self.assertNotContains(
            self.page(f"/portal/tickets/{ticket_id}/"), 'data-testid="autocloses"'
        )

        self.travel_to(START + 12 * DAY)
        staff = self.browser()
        self.sign_in_staff(client=staff)
        customer_page = self.page(f"/portal/tickets/{ticket_id}/")
        staff_page = self.page(f"/support/tickets/{ticket_id}/", client=staff)
        for page in (customer_page, staff_page):
            self.assertContains(page, 'data-testid="autocloses"')
            self.assertContains(page, "closes automatically on 12/11/2026")

    def test_it_shows_no_auto_close_for_a_ticket_waiting_for_support(self):
        ticket_id = self.open_ticket()
        self.travel_to(START + 13 * DAY)
        self.sign_in_customer()

        self.assertNotContains(
            self.page(f"/portal/tickets/{ticket_id}/"), 'data-testid="autocloses"'
        )

    def test_it_shows_the_locking_date_on_every_open_ticket(self):
        ticket_id = self.open_ticket()
        self.sign_in_customer()

        page = self.page(f"/portal/tickets/{ticket_id}/")

        self.assertContains(page, "Locked from 12/27/2026")

    def test_it_shows_a_locked_ticket_only_as_locked(self):
        ticket_id = self.open_ticket()
        self.travel_to(START + 30 * DAY)
        self.sign_in_customer()

        page = self.page(f"/portal/tickets/{ticket_id}/").content.decode()

        self.assertEqual(re.findall(r'class="badge ([a-z]+)"', page), ["locked"])
        self.assertNotIn("waiting for support", page)

    def test_it_uses_two_german_words_for_a_locked_ticket_and_a_blocked_supporter(self):
        ticket_id = self.open_ticket()
        self.travel_to(START + 30 * DAY)
        Staff.objects.filter(pk=self.supporter.pk).update(blocked_at=clock.now())
        self.sign_in_customer()
        admin = self.browser()
        self.sign_in_staff(self.admin, client=admin)
        self.client.cookies["django_language"] = "de"
        admin.cookies["django_language"] = "de"

        ticket = self.page(f"/portal/tickets/{ticket_id}/")
        staff = self.page("/staff-admin/", client=admin)

        self.assertContains(ticket, '<span class="badge locked">archiviert</span>')
        self.assertNotContains(ticket, "gesperrt")
        self.assertContains(staff, '<span class="badge locked">gesperrt</span>')


class ProductWordTests(WebTestCase):
    def test_it_shows_product_types_states_and_actions_in_german(self):
        self.sign_in_customer()
        self.client.cookies["django_language"] = "de"

        page = self.page("/portal/")

        self.assertContains(page, ">Gameserver<")
        self.assertContains(page, ">aktiv<")
        self.assertNotContains(page, ">gameserver<")

    def test_it_shows_an_unknown_type_as_it_came(self):
        Product.objects.filter(pk="gs-1").update(type="quantum-box", status="frozen")
        self.sign_in_customer()

        page = self.page("/portal/")

        self.assertContains(page, ">quantum-box<")
        self.assertContains(page, ">frozen<")

    @override_settings(SUPPORTPIN_ACTION_WEBHOOK_URL="https://panel.example/hook")
    def test_it_labels_the_action_buttons_in_german(self):
        self.redeem(self.current_pin())
        self.sign_in_staff()
        self.client.cookies["django_language"] = "de"

        page = self.page("/support/products/gs-1/")

        self.assertContains(page, 'value="reinstall"')
        self.assertContains(page, ">Neu installieren</button>")


@override_settings(SUPPORTPIN_ACTION_WEBHOOK_URL="https://panel.example/hook")
class ConfirmationTests(WebTestCase):
    def test_it_asks_before_a_reinstall_and_sends_nothing_until_the_yes(self):
        self.redeem(self.current_pin())
        self.sign_in_staff()

        asked = self.client.post("/support/products/gs-1/actions/", {"action": "reinstall"})

        self.assertEqual(asked.status_code, 200)
        self.assertContains(asked, "Please confirm")
        self.assertContains(asked, 'name="action" value="reinstall"')
        self.assertContains(asked, 'name="confirm" value="yes"')
        self.assertFalse(AuditEntry.objects.filter(event=Event.PRODUCT_ACTION).exists())

        self.client.post("/support/products/gs-1/actions/", {"action": "reinstall", **CONFIRMED})

        self.assertTrue(AuditEntry.objects.filter(event=Event.PRODUCT_ACTION).exists())

    def test_it_runs_a_restart_without_asking(self):
        self.redeem(self.current_pin())
        self.sign_in_staff()

        self.client.post("/support/products/gs-1/actions/", {"action": "restart"})

        self.assertTrue(AuditEntry.objects.filter(event=Event.PRODUCT_ACTION).exists())

    def test_it_asks_nothing_about_a_product_the_supporter_cannot_reach(self):
        self.sign_in_staff()

        response = self.client.post("/support/products/gs-1/actions/", {"action": "stop"})

        self.assertEqual(response.status_code, 404)
        self.assertNotContains(response, "Product gs-1", status_code=404)

    def test_it_asks_before_a_revocation(self):
        self.redeem(self.current_pin())
        grant_id = self.get("/support/grants", self.token_for(self.supporter)).json()[0]["id"]
        self.sign_in_customer()

        asked = self.client.post(f"/portal/support/grants/{grant_id}/revoke/")

        self.assertContains(asked, "Revoke this access?")
        self.assertEqual(
            self.get("/support/products/gs-1", self.token_for(self.supporter)).status_code, 200
        )

    def test_it_asks_before_disabling_a_supporter(self):
        self.sign_in_staff(self.admin)

        asked = self.client.post(f"/staff-admin/{self.supporter.pk}/disable/")

        self.assertContains(asked, "Disable Sam S.?")
        self.assertTrue(Staff.objects.get(pk=self.supporter.pk).is_active)

    def test_it_marks_the_destructive_buttons_for_the_browsers_dialog(self):
        self.redeem(self.current_pin())
        self.sign_in_staff()

        page = self.page("/support/products/gs-1/").content.decode()

        confirmed = set(re.findall(r'value="(\w+)" class="secondary" data-confirm=', page))
        self.assertEqual(confirmed, {"stop", "reinstall"})


class PageMarkupTests(TicketShortcuts):
    def test_it_gives_a_supporter_the_apps_own_403_page_in_german(self):
        self.sign_in_staff()
        self.client.cookies["django_language"] = "de"

        response = self.page("/staff-admin/", status=403)

        self.assertContains(response, "Nicht erlaubt", status_code=403)
        self.assertContains(response, '<html lang="de">', status_code=403)

    def test_it_shows_the_admin_page_to_an_admin(self):
        self.sign_in_staff(self.admin)

        self.page("/staff-admin/")

    def test_it_shows_flash_messages_as_paragraphs_in_one_status_region(self):
        self.sign_in_customer()

        response = self.client.post("/portal/support/new/", follow=True)

        html = response.content.decode()
        self.assertRegex(html, r'<div class="messages" role="status"><p class="success">')
        self.assertNotIn('<ul class="messages"', html)

    def test_it_names_every_header_cell_of_the_admin_table(self):
        self.sign_in_staff(self.admin)

        html = self.page("/staff-admin/").content.decode()

        self.assertNotIn("<th></th>", html)
        self.assertIn('<span class="visually-hidden">Actions</span>', html)

    def test_it_points_aria_describedby_at_an_existing_help_text(self):
        pages = [self.page("/staff/login/")]
        self.sign_in_customer()
        pages.append(self.page("/portal/tickets/new/"))
        for page in pages:
            html = page.content.decode()
            described = re.findall(r'aria-describedby="([^"]+)"', html)
            self.assertTrue(described)
            for target in described:
                self.assertIn(f'id="{target}"', html)
            self.assertNotIn('id="_help"', html)

    def test_it_marks_the_current_page_in_the_nav(self):
        self.sign_in_customer()

        html = self.page("/portal/tickets/").content.decode()

        current = re.findall(r'<a href="([^"]+)" aria-current="page">', html)
        self.assertEqual(current, ["/portal/tickets/"])

    def test_it_lets_password_managers_fill_the_sign_in_fields(self):
        customer = self.page("/login/").content.decode()
        staff = self.page("/staff/login/").content.decode()

        self.assertRegex(
            customer,
            r'name="login"[^>]*autocomplete="username"|autocomplete="username"[^>]*name="login"',
        )
        for html in (customer, staff):
            self.assertRegex(
                html, r'type="password" name="password" autocomplete="current-password"'
            )

    def test_it_names_the_pin_page_once_in_its_title(self):
        self.sign_in_customer()

        html = self.page("/portal/support/").content.decode()

        self.assertIn("<title>Your Support-PIN · Support-PIN</title>", html)

    def test_it_labels_every_table_cell_for_the_phone_layout(self):
        self.open_ticket()
        self.sign_in_customer()
        for path in ("/portal/", "/portal/tickets/"):
            html = self.page(path).content.decode()
            cells = re.findall(r"<td[^>]*>", html)
            self.assertTrue(cells)
            self.assertTrue(all("data-label=" in cell for cell in cells), (path, cells))

    def test_it_prefills_a_follow_up_from_the_locked_ticket(self):
        ticket_id = self.open_ticket(products=["vs-1"])
        self.sign_in_customer()

        form = self.page(f"/portal/tickets/new/?follows={ticket_id}").content.decode()

        self.assertIn(f'value="Follow-up to #{ticket_id}: Server down"', form)
        self.assertRegex(form, r'value="vs-1"[^>]*checked|checked[^>]*value="vs-1"')
        self.assertIn(f'name="follows" value="{ticket_id}"', form)

    def test_it_prefills_nothing_from_another_customers_ticket(self):
        other = self.post(
            "/me/tickets",
            {"subject": "Secret subject", "message": "x"},
            self.token_for(self.other_customer),
        ).json()["id"]
        self.sign_in_customer()

        for follows in (str(other), "abc", "0", "9" * 30):
            form = self.page(f"/portal/tickets/new/?follows={follows}").content.decode()
            self.assertNotIn("Secret subject", form)
            self.assertNotIn("Follow-up to", form)
