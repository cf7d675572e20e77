import re
from datetime import timedelta

from django.test import override_settings

from supportpin.audit.models import AuditEntry
from supportpin.lib import clock
from supportpin.web.tests.browser import WebTestCase

ROUTES = [re.compile(r"^/server/(?P<product>[A-Za-z0-9_-]+)(/|$)")]


@override_settings(SUPPORTPIN_FORWARD_AUTH_ROUTES=ROUTES)
class ForwardAuthTests(WebTestCase):
    """GET /auth/forward as a reverse proxy asks it, with the supporter's browser cookie."""

    def check(self, uri: str, header: str = "X-Original-URI"):
        return self.client.get("/auth/forward", headers={header: uri})

    def proxied_entries(self) -> list[tuple[str, str]]:
        entries = AuditEntry.objects.filter(detail__via="forward auth").order_by("id")
        return [(e.product, e.at.isoformat()) for e in entries]

    def test_it_answers_401_without_a_staff_session(self):
        self.assertEqual(self.check("/server/gs-1/").status_code, 401)
        self.sign_in_customer()
        self.assertEqual(self.check("/server/gs-1/").status_code, 401)

    def test_it_answers_403_to_a_supporter_without_a_grant(self):
        self.sign_in_staff()
        self.assertEqual(self.check("/server/gs-1/").status_code, 403)

    def test_it_lets_the_supporter_in_with_a_pin_grant_and_names_the_grant(self):
        grant = self.redeem(self.current_pin()).json()
        self.sign_in_staff()

        for header in ("X-Original-URI", "X-Forwarded-Uri"):
            response = self.check("/server/gs-1/console?tab=log", header)
            self.assertEqual(response.status_code, 200, header)
            self.assertEqual(response["X-SupportPIN-Supporter"], "sam")
            self.assertEqual(response["X-SupportPIN-Grant"], str(grant["id"]))
            self.assertEqual(response["X-SupportPIN-Until"], "2026-11-27T10:00:00+00:00")

    def test_it_refuses_the_second_the_pin_expires(self):
        self.redeem(self.current_pin())
        self.sign_in_staff()
        self.travel_to(clock.now() + timedelta(minutes=59, seconds=59))
        self.assertEqual(self.check("/server/gs-1/").status_code, 200)

        self.travel_to(clock.now() + timedelta(seconds=1))

        self.assertEqual(self.check("/server/gs-1/").status_code, 403)

    def test_it_refuses_another_customers_product_unknown_products_and_unrouted_paths(self):
        self.redeem(self.current_pin())
        self.sign_in_staff()
        for uri in ("/server/gs-2/", "/server/nope/", "/settings/", "/servers/gs-1/", ""):
            self.assertEqual(self.check(uri).status_code, 403, uri)

    @override_settings(SUPPORTPIN_FORWARD_AUTH_ROUTES=[re.compile(r"^/any/(?P<product>[^/]+)")])
    def test_it_refuses_ids_no_product_can_have_with_403_not_500(self):
        self.redeem(self.current_pin())
        self.sign_in_staff()
        for uri in ("/any/gs-1%00", "/any/" + "g" * 5000, "/any/gs%201", "/any/%C2%B2"):
            self.assertEqual(self.check(uri).status_code, 403, uri[:20])
        self.assertEqual(self.check("/any/gs-1").status_code, 200)

    def test_it_refuses_a_path_that_walks_to_another_product(self):
        self.redeem(self.current_pin())
        self.sign_in_staff()
        for uri in (
            "/server/gs-1/../gs-2/",
            "/server/gs-1/%2e%2e/gs-2/",
            "/server/gs-1/..;/gs-2/",
            "/server/gs-1\\..\\gs-2/",
        ):
            self.assertEqual(self.check(uri).status_code, 403, uri)

    def test_it_refuses_when_the_two_url_headers_name_different_urls(self):
        self.redeem(self.current_pin())
        self.sign_in_staff()

        spoofed = self.client.get(
            "/auth/forward",
            headers={"X-Original-URI": "/server/gs-2/", "X-Forwarded-Uri": "/server/gs-1/"},
        )
        agreeing = self.client.get(
            "/auth/forward",
            headers={"X-Original-URI": "/server/gs-1/", "X-Forwarded-Uri": "/server/gs-1/"},
        )

        self.assertEqual(spoofed.status_code, 403)
        self.assertEqual(agreeing.status_code, 200)

    def test_it_logs_one_entry_per_grant_product_and_five_minutes(self):
        self.redeem(self.current_pin())
        self.sign_in_staff()
        start = clock.now()
        for seconds in (0, 1, 60, 299):
            self.travel_to(start + timedelta(seconds=seconds))
            self.check("/server/gs-1/")
            self.check("/server/vs-1/")
        self.travel_to(start + timedelta(minutes=5))
        self.check("/server/gs-1/")
        self.check("/server/gs-2/")

        self.assertEqual(
            self.proxied_entries(),
            [
                ("gs-1", "2026-11-27T09:00:00+00:00"),
                ("vs-1", "2026-11-27T09:00:00+00:00"),
                ("gs-1", "2026-11-27T09:05:00+00:00"),
            ],
        )
