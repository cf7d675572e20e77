from datetime import timedelta

from supportpin.lib import clock
from supportpin.web.tests.browser import WebTestCase

HTMX = {"HTTP_HX_REQUEST": "true"}


class LivePanelTests(WebTestCase):
    """The panels htmx refreshes: the customer's PIN panel and the supporter's grants."""

    def test_it_shows_the_customer_who_redeemed_the_pin_without_a_reload(self):
        self.sign_in_customer()
        pin = self.current_pin()
        panel = self.client.get("/portal/support/panel/", **HTMX)
        self.assertNotContains(panel, "Sam S.")

        self.redeem(pin)

        panel = self.client.get("/portal/support/panel/", **HTMX)
        self.assertContains(panel, "Sam S.")
        self.assertContains(panel, 'hx-trigger="every 10s, refresh"')
        self.assertNotContains(panel, "<html")

    def test_it_lists_the_supporters_grants_and_drops_expired_ones(self):
        self.redeem(self.current_pin())
        self.sign_in_staff()
        self.assertContains(self.client.get("/support/grants/", **HTMX), "C-1001")

        self.travel_to(clock.now() + timedelta(minutes=60))

        self.assertNotContains(self.client.get("/support/grants/", **HTMX), "C-1001")

    def test_it_does_not_count_a_background_refresh_as_staff_activity(self):
        self.sign_in_staff()
        signed_in = clock.now()
        self.travel_to(signed_in + timedelta(minutes=50))
        self.assertEqual(self.client.get("/support/grants/", **HTMX).status_code, 200)

        self.travel_to(signed_in + timedelta(minutes=60))

        response = self.client.get("/support/grants/", **HTMX)
        self.assertEqual(response["HX-Redirect"], "/staff/login/?next=/support/grants/")

    def test_it_sends_a_signed_out_customer_to_sign_in_by_a_full_reload(self):
        response = self.client.get("/portal/support/panel/", **HTMX)

        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["HX-Redirect"], "/login/?next=/portal/support/panel/")
        self.assertEqual(response.content, b"")
