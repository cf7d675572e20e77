from datetime import timedelta
from urllib.parse import urlsplit

from django.test import override_settings

from supportpin.lib import clock
from supportpin.web.tests.browser import WebTestCase
from testsupport import PASSWORD


class SignInLinkTests(WebTestCase):
    def create_link(self, body=None, number: str = "C-1001"):
        return self.post(f"/customers/{number}/sign-in-links", body or {}, self.api_key)

    def link_path(self, body=None) -> str:
        response = self.create_link(body)
        self.assertEqual(response.status_code, 201, response.content)
        return urlsplit(response.json()["url"]).path

    def assertNotSignedIn(self, response) -> None:
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "Sign-in link not valid", status_code=400)
        self.assertNotIn("customer", self.client.session)
        self.assertRedirects(self.client.get("/portal/"), "/login/?next=/portal/")

    def test_it_gives_a_url_of_this_host_valid_for_sixty_seconds(self):
        response = self.create_link()

        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertTrue(body["url"].startswith("http://testserver/login/link/spl_"), body)
        self.assertEqual(body["expires_at"], "2026-11-27T09:01:00+00:00")

    @override_settings(SUPPORTPIN_PUBLIC_URL="https://support.example.net/")
    def test_it_builds_the_url_on_the_public_address_when_one_is_set(self):
        url = self.create_link().json()["url"]

        self.assertTrue(url.startswith("https://support.example.net/login/link/spl_"), url)

    def test_it_signs_the_customer_in_and_lands_on_next(self):
        path = self.link_path({"next": "/portal/support/"})

        response = self.client.get(path)

        self.assertRedirects(response, "/portal/support/", fetch_redirect_response=False)
        self.assertEqual(response["Referrer-Policy"], "no-referrer")
        self.assertContains(self.page("/portal/"), "Product gs-1")

    def test_it_lands_on_the_portal_without_next(self):
        response = self.client.get(self.link_path())

        self.assertRedirects(response, "/portal/", fetch_redirect_response=False)

    def test_it_starts_a_fresh_session(self):
        self.client.post("/login/", {"login": "C-2002", "password": PASSWORD})
        old_session = self.client.session.session_key

        self.client.get(self.link_path())

        self.assertNotEqual(self.client.session.session_key, old_session)
        products = self.page("/portal/")
        self.assertContains(products, "Product gs-1")
        self.assertNotContains(products, "Product gs-2")

    def test_it_refuses_a_second_use(self):
        path = self.link_path()
        self.browser().get(path)

        response = self.client.get(path)

        self.assertNotSignedIn(response)
        self.assertEqual(response["Referrer-Policy"], "no-referrer")

    def test_it_works_until_the_sixtieth_second(self):
        path = self.link_path()
        self.travel_to(clock.now() + timedelta(seconds=59))

        response = self.client.get(path)

        self.assertRedirects(response, "/portal/", fetch_redirect_response=False)

    def test_it_refuses_an_expired_link(self):
        path = self.link_path()
        self.travel_to(clock.now() + timedelta(seconds=60))

        self.assertNotSignedIn(self.client.get(path))

    def test_it_refuses_a_tampered_link(self):
        path = self.link_path()

        self.assertNotSignedIn(self.client.get(path[:-2] + ("A/" if path[-2] != "A" else "B/")))

    def test_it_explains_a_bad_link_in_german(self):
        self.client.cookies["django_language"] = "de"

        response = self.client.get("/login/link/spl_unknown/")

        self.assertContains(response, "Anmeldelink ungültig", status_code=400)

    def test_it_refuses_a_next_outside_the_app(self):
        for target in (
            "//evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            "/\\evil.example",
            "portal/",
            "/no-such-page/",
        ):
            with self.subTest(target=target):
                self.assertProblem(self.create_link({"next": target}), 422, "invalid")

    def test_it_answers_an_unknown_customer_with_404(self):
        self.assertProblem(self.create_link(number="C-9999"), 404, "not_found")

    def test_it_requires_the_integration_key(self):
        self.assertProblem(self.post("/customers/C-1001/sign-in-links", {}), 401, "unauthorized")
        customer_token = self.token_for(self.customer)
        response = self.post("/customers/C-1001/sign-in-links", {}, customer_token)
        self.assertProblem(response, 403, "forbidden")

    def test_it_shows_creation_and_use_in_the_access_log(self):
        self.client.get(self.link_path())

        log = self.get("/me/access-log", self.token_for(self.customer)).json()

        self.assertEqual(
            [(e["event"], e["actor_role"], e["actor"]) for e in log[:2]],
            [
                ("signed_in_with_link", "customer", "C-1001"),
                ("sign_in_link_created", "integration", "billing"),
            ],
        )


@override_settings(
    SUPPORTPIN_CUSTOMER_PASSWORDS=False,
    SUPPORTPIN_CUSTOMER_PANEL_URL="https://panel.example.net/clientarea",
)
class CustomerPasswordsOffTests(WebTestCase):
    def test_it_refuses_a_customer_password_in_the_api(self):
        response = self.post("/auth/token", {"username": "C-1001", "password": PASSWORD})

        self.assertProblem(response, 403, "customer_passwords_off")

    def test_it_still_signs_staff_in_through_the_api(self):
        body = {"username": "sam", "password": PASSWORD, "otp": self.code_for(self.supporter)}

        self.assertEqual(self.post("/auth/token", body).status_code, 201)

    def test_it_shows_the_panel_url_instead_of_a_password_form(self):
        response = self.page("/login/")

        self.assertContains(response, 'href="https://panel.example.net/clientarea"')
        self.assertNotContains(response, 'name="password"')

    def test_it_refuses_a_password_posted_to_the_sign_in_page(self):
        response = self.client.post("/login/", {"login": "C-1001", "password": PASSWORD})

        self.assertEqual(response.status_code, 403)
        self.assertNotIn("customer", self.client.session)

    def test_it_still_signs_customers_in_with_a_link(self):
        url = self.post("/customers/C-1001/sign-in-links", {}, self.api_key).json()["url"]

        self.client.get(urlsplit(url).path)

        self.assertContains(self.page("/portal/"), "Product gs-1")
