"""The "API tokens" page: a token for scripts that ends with the web session it was made in."""

import re
from datetime import timedelta

from django.test import Client

from supportpin.accounts.actions import SYSTEM, end_staff_sessions
from supportpin.audit.models import AuditEntry, Event
from supportpin.lib import clock
from supportpin.web.tests.browser import WebTestCase
from testsupport import START

NEW_TOKEN = re.compile(r'data-testid="new-token">(spt_[^<]+)<')


class ApiTokensPageTests(WebTestCase):
    def setUp(self):
        super().setUp()
        self.sign_in_staff(self.supporter)

    def create_token(self, client=None) -> str:
        response = (client or self.client).post("/support/api-tokens/")
        self.assertEqual(response.status_code, 201, response.content[:2000])
        self.assertCleanPage(response)
        return NEW_TOKEN.search(response.content.decode()).group(1)

    def from_script(self, token: str):
        """Call the API like a script: the token, no session cookie."""
        return Client().get("/api/v1/support/grants", headers={"Authorization": f"Bearer {token}"})

    def assertTokenWorks(self, token: str) -> None:
        self.assertEqual(self.from_script(token).status_code, 200)

    def assertTokenDead(self, token: str) -> None:
        self.assertProblem(self.from_script(token), 401, "unauthorized")

    def test_the_page_is_in_the_staff_navigation(self):
        self.assertContains(self.page("/support/"), 'href="/support/api-tokens/"')

    def test_a_new_token_is_shown_once_and_calls_the_api_as_its_staff_member(self):
        token = self.create_token()

        self.assertTokenWorks(token)
        page = self.page("/support/api-tokens/")
        self.assertNotContains(page, token)
        self.assertContains(page, 'data-testid="api-token"', count=1)
        entry = AuditEntry.objects.get(event=Event.STAFF_API_TOKEN_CREATED)
        self.assertEqual((entry.actor, entry.detail["staff"]), ("Sam S.", "sam"))

    def test_signing_out_ends_the_token(self):
        token = self.create_token()

        self.client.post("/logout/")

        self.assertTokenDead(token)

    def test_the_token_ends_when_the_session_ends_for_inactivity(self):
        token = self.create_token()
        self.travel_to(clock.now() + timedelta(minutes=59))
        self.assertTokenWorks(token)
        self.page("/support/")  # activity keeps the session, and so the token, alive

        self.travel_to(clock.now() + timedelta(minutes=59))
        self.assertTokenWorks(token)
        self.travel_to(clock.now() + timedelta(minutes=1))
        self.assertTokenDead(token)

    def test_the_token_ends_twelve_hours_after_sign_in_however_active_the_session(self):
        self.travel_to(START + timedelta(minutes=50))
        self.page("/support/")
        token = self.create_token()
        for _ in range(13):
            self.travel_to(clock.now() + timedelta(minutes=50))
            self.client.get("/support/")
        self.travel_to(START + timedelta(hours=11, minutes=59))
        self.assertTokenWorks(token)

        self.travel_to(START + timedelta(hours=12))

        self.assertTokenDead(token)

    def test_ending_the_staff_members_sessions_ends_the_token(self):
        token = self.create_token()

        end_staff_sessions(staff=self.supporter, now=clock.now(), by=SYSTEM)

        self.assertTokenDead(token)

    def test_the_revoke_button_ends_the_token(self):
        token = self.create_token()
        token_id = self.page("/support/api-tokens/").context["tokens"][0].pk

        response = self.client.post(f"/support/api-tokens/{token_id}/revoke/")

        self.assertRedirects(response, "/support/api-tokens/", fetch_redirect_response=False)
        self.assertTokenDead(token)
        self.assertContains(self.page("/support/api-tokens/"), "No tokens yet.")

    def test_nobody_else_revokes_a_token_or_sees_it(self):
        token = self.create_token()
        token_id = self.page("/support/api-tokens/").context["tokens"][0].pk
        other = self.browser()
        self.sign_in_staff(self.other_supporter, client=other)

        page = self.page("/support/api-tokens/", client=other)
        self.assertNotContains(page, 'data-testid="api-token"')
        response = other.post(f"/support/api-tokens/{token_id}/revoke/")

        self.assertEqual(response.status_code, 404)
        self.assertTokenWorks(token)

    def test_signed_out_visitors_and_customers_are_sent_to_sign_in(self):
        customer = self.browser()
        self.sign_in_customer(client=customer)
        for who, client in (("nobody", self.browser()), ("customer", customer)):
            with self.subTest(who):
                response = client.post("/support/api-tokens/")

                self.assertEqual(response.status_code, 302)
                self.assertTrue(response["Location"].startswith("/staff/login/"))
