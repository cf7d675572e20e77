"""A database that is briefly away (a restart, a failover) is a 503 to retry, never a 500."""

from unittest import mock

from django.db import OperationalError
from django.test import Client

from supportpin.web.tests.browser import WebTestCase
from testsupport import SupportPinTestCase

RESTARTING = OperationalError("terminating connection due to administrator command")


class DatabaseAwayApiTests(SupportPinTestCase):
    def test_it_answers_503_with_retry_after_while_the_database_is_away(self):
        token = self.token_for(self.supporter)
        with mock.patch("supportpin.api.support.live_grants", side_effect=RESTARTING):
            response = self.get("/support/grants", token)

        self.assertProblem(response, 503, "unavailable")
        self.assertEqual(response["Retry-After"], "5")

    def test_it_answers_500_for_any_other_fault(self):
        token = self.token_for(self.supporter)
        with mock.patch("supportpin.api.support.live_grants", side_effect=RuntimeError("bug")):
            response = self.get("/support/grants", token)

        self.assertProblem(response, 500, "internal")


class DatabaseAwayPageTests(WebTestCase):
    def setUp(self):
        super().setUp()
        self.client = Client(raise_request_exception=False)

    def test_it_shows_a_retrying_page_in_the_users_language_while_the_database_is_away(self):
        self.sign_in_staff(self.supporter)
        with mock.patch("supportpin.web.views.support.live_grants", side_effect=RESTARTING):
            response = self.client.get("/support/", headers={"Accept-Language": "de"})

        self.assertEqual(response.status_code, 503)
        self.assertEqual(response["Retry-After"], "5")
        self.assertContains(response, "Gleich wieder da", status_code=503)

    def test_it_answers_503_when_the_database_fails_before_the_view(self):
        self.sign_in_staff(self.supporter)
        # The staff session is loaded by middleware, before any view runs.
        with mock.patch(
            "supportpin.web.session.Staff.objects", **{"filter.side_effect": RESTARTING}
        ):
            page = self.client.get("/support/")
            api = self.client.get("/api/v1/support/grants")

        self.assertEqual(page.status_code, 503)
        self.assertProblem(api, 503, "unavailable")

    def test_it_shows_its_own_error_page_for_any_other_fault(self):
        self.sign_in_staff(self.supporter)
        with mock.patch("supportpin.web.views.support.live_grants", side_effect=RuntimeError):
            response = self.client.get("/support/")

        self.assertEqual(response.status_code, 500)
        self.assertContains(response, "Etwas ist schiefgelaufen", status_code=500)
