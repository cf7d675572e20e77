from datetime import timedelta

import pyotp
from django.test import override_settings

from supportpin.lib import clock
from supportpin.web.tests.browser import WebTestCase, shown_key
from testsupport import PASSWORD, START, personal_markers


class CustomerSignInPageTests(WebTestCase):
    def test_it_shows_the_sign_in_form(self):
        response = self.page("/login/")

        self.assertContains(response, 'name="login"')
        self.assertContains(response, 'name="password"')

    def test_it_signs_a_customer_in_by_customer_number(self):
        response = self.client.post("/login/", {"login": "C-1001", "password": PASSWORD})

        self.assertRedirects(response, "/portal/", fetch_redirect_response=False)
        self.assertContains(self.page("/portal/"), "Product gs-1")

    def test_it_signs_a_customer_in_by_email(self):
        email = personal_markers("C-2002")["email"]

        response = self.client.post("/login/", {"login": email, "password": PASSWORD})

        self.assertRedirects(response, "/portal/", fetch_redirect_response=False)
        products = self.page("/portal/")
        self.assertContains(products, "Product gs-2")
        self.assertNotContains(products, "Product gs-1")

    def test_it_refuses_a_wrong_password_with_an_error_and_no_session(self):
        response = self.client.post("/login/", {"login": "C-1001", "password": "wrong"})

        self.assertEqual(response.status_code, 400)
        self.assertCleanPage(response)
        self.assertContains(response, 'role="alert"', status_code=400)
        self.assertContains(response, "password is wrong", status_code=400)
        self.assertNotIn("customer", self.client.session)
        self.assertRedirects(self.client.get("/portal/"), "/login/?next=/portal/")

    def test_it_answers_an_unknown_customer_like_a_wrong_password(self):
        wrong = self.client.post("/login/", {"login": "C-1001", "password": "wrong"})
        unknown = self.client.post("/login/", {"login": "C-9999", "password": PASSWORD})

        self.assertEqual(unknown.status_code, wrong.status_code)
        self.assertEqual(
            [str(e) for e in unknown.context["form"].non_field_errors()],
            [str(e) for e in wrong.context["form"].non_field_errors()],
        )

    def test_it_follows_a_local_next_after_sign_in(self):
        response = self.client.post(
            "/login/?next=/portal/tickets/", {"login": "C-1001", "password": PASSWORD}
        )

        self.assertRedirects(response, "/portal/tickets/", fetch_redirect_response=False)

    def test_it_does_not_follow_a_next_to_another_site(self):
        for next_url in ("https://evil.example/", "//evil.example/", "https:evil.example"):
            with self.subTest(next_url):
                client = self.browser()
                response = client.post(
                    f"/login/?next={next_url}", {"login": "C-1001", "password": PASSWORD}
                )

                self.assertEqual(response.status_code, 302)
                self.assertEqual(response["Location"], "/portal/")

    def test_it_does_not_follow_a_posted_next_to_another_site(self):
        response = self.client.post(
            "/login/",
            {"login": "C-1001", "password": PASSWORD, "next": "https://evil.example/x"},
        )

        self.assertEqual(response["Location"], "/portal/")


class StaffSignInPageTests(WebTestCase):
    def test_it_signs_staff_in_with_password_and_code(self):
        response = self.sign_in_staff(self.supporter)

        self.assertEqual(response["Location"], "/support/")
        self.assertContains(self.page("/support/"), 'name="pin"')

    def test_it_refuses_staff_without_a_code_once_enrolled(self):
        self.sign_in_staff(self.supporter)
        client = self.browser()

        response = client.post(
            "/staff/login/", {"username": "sam", "password": PASSWORD, "otp": ""}
        )

        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "code is wrong", status_code=400)
        self.assertRedirects(client.get("/support/"), "/staff/login/?next=/support/")

    def test_it_refuses_a_wrong_code(self):
        code = pyotp.TOTP(self.supporter.otp_secret).at(clock.now())
        wrong = str((int(code) + 1) % 10**6).zfill(6)

        response = self.client.post(
            "/staff/login/", {"username": "sam", "password": PASSWORD, "otp": wrong}
        )

        self.assertEqual(response.status_code, 400)
        self.assertNotIn("staff", self.client.session)

    def test_it_refuses_a_wrong_password_even_with_the_right_code(self):
        code = pyotp.TOTP(self.supporter.otp_secret).at(clock.now())

        response = self.client.post(
            "/staff/login/", {"username": "sam", "password": "wrong", "otp": code}
        )

        self.assertEqual(response.status_code, 400)
        self.assertNotIn("staff", self.client.session)

    def test_it_accepts_each_code_only_once(self):
        code = pyotp.TOTP(self.supporter.otp_secret).at(clock.now())
        first = self.browser().post(
            "/staff/login/", {"username": "sam", "password": PASSWORD, "otp": code}
        )
        second = self.client.post(
            "/staff/login/", {"username": "sam", "password": PASSWORD, "otp": code}
        )

        self.assertEqual(first.status_code, 302)
        self.assertEqual(second.status_code, 400)
        self.assertNotIn("staff", self.client.session)

    def test_it_does_not_follow_a_next_to_another_site(self):
        code = pyotp.TOTP(self.supporter.otp_secret).at(clock.now())

        response = self.client.post(
            "/staff/login/?next=https://evil.example/",
            {"username": "sam", "password": PASSWORD, "otp": code},
        )

        self.assertEqual(response["Location"], "/support/")

    def test_it_follows_a_local_next(self):
        code = pyotp.TOTP(self.supporter.otp_secret).at(clock.now())

        response = self.client.post(
            "/staff/login/?next=/support/tickets/",
            {"username": "sam", "password": PASSWORD, "otp": code},
        )

        self.assertEqual(response["Location"], "/support/tickets/")


class EnrolmentPageTests(WebTestCase):
    def start_enrolment(self):
        return self.client.post("/staff/login/", {"username": "sam", "password": PASSWORD})

    def test_it_sends_unenrolled_staff_without_a_code_to_enrolment(self):
        response = self.start_enrolment()

        self.assertRedirects(response, "/staff/enrol/", fetch_redirect_response=False)
        self.assertNotIn("staff", self.client.session)

    def test_it_shows_an_inline_svg_qr_code_and_the_secret(self):
        self.start_enrolment()

        response = self.page("/staff/enrol/")

        self.assertRegex(response.content.decode(), r"<svg[^>]*>")
        self.assertEqual(shown_key(response), self.supporter.otp_secret)

    def test_it_signs_in_and_confirms_with_the_right_code(self):
        self.start_enrolment()
        code = pyotp.TOTP(self.supporter.otp_secret).at(clock.now())

        response = self.client.post("/staff/enrol/", {"otp": code})

        self.assertRedirects(response, "/support/", fetch_redirect_response=False)
        self.supporter.refresh_from_db()
        self.assertIsNotNone(self.supporter.otp_confirmed_at)
        self.page("/support/")

    def test_it_refuses_a_wrong_code_and_keeps_the_page(self):
        self.start_enrolment()
        code = pyotp.TOTP(self.supporter.otp_secret).at(clock.now())

        response = self.client.post("/staff/enrol/", {"otp": str((int(code) + 1) % 10**6).zfill(6)})

        self.assertEqual(response.status_code, 400)
        self.assertNotIn("staff", self.client.session)
        self.supporter.refresh_from_db()
        self.assertIsNone(self.supporter.otp_confirmed_at)

    def test_it_no_longer_shows_the_secret_once_confirmed(self):
        self.start_enrolment()
        self.client.post("/staff/enrol/", {"otp": self.code_for(self.supporter)})
        client = self.browser()
        client.post("/staff/login/", {"username": "sam", "password": PASSWORD})

        response = client.get("/staff/enrol/")

        self.assertRedirects(response, "/staff/login/", fetch_redirect_response=False)
        self.assertNotContains(response, self.supporter.otp_secret, status_code=302)

    def test_it_does_not_show_the_secret_without_the_password(self):
        response = self.client.get("/staff/enrol/")

        self.assertRedirects(response, "/staff/login/", fetch_redirect_response=False)
        wrong = self.client.post("/staff/login/", {"username": "sam", "password": "wrong"})
        self.assertEqual(wrong.status_code, 400)
        self.assertNotContains(wrong, self.supporter.otp_secret, status_code=400)
        self.assertRedirects(
            self.client.get("/staff/enrol/"), "/staff/login/", fetch_redirect_response=False
        )


class SignOutTests(WebTestCase):
    def test_it_signs_out_with_a_post(self):
        self.sign_in_customer()

        response = self.client.post("/logout/")

        self.assertRedirects(response, "/login/", fetch_redirect_response=False)
        self.assertRedirects(self.client.get("/portal/"), "/login/?next=/portal/")

    def test_it_does_not_sign_out_with_a_get(self):
        self.sign_in_customer()

        response = self.client.get("/logout/")

        self.assertEqual(response.status_code, 405)
        self.page("/portal/")


@override_settings(SUPPORTPIN_SIGN_IN_RATE="10/5m")
class SignInThrottleTests(WebTestCase):
    def fail(self, login: str, client=None):
        return (client or self.client).post("/login/", {"login": login, "password": "wrong"})

    def test_it_refuses_the_eleventh_attempt_even_with_the_right_password(self):
        for _ in range(10):
            self.assertEqual(self.fail("C-1001").status_code, 400)

        response = self.client.post("/login/", {"login": "C-1001", "password": PASSWORD})

        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "Too many", status_code=400)
        self.assertNotIn("customer", self.client.session)

    def test_it_counts_per_login_across_clients(self):
        for n in range(10):
            self.fail("C-1001", self.browser(REMOTE_ADDR=f"10.0.0.{n + 1}"))

        response = self.browser(REMOTE_ADDR="10.0.1.1").post(
            "/login/", {"login": "c-1001", "password": PASSWORD}
        )

        self.assertContains(response, "Too many", status_code=400)

    def test_it_lets_the_customer_in_after_five_minutes(self):
        for _ in range(10):
            self.fail("C-1001")
        self.travel_to(START + timedelta(minutes=5, seconds=1))

        response = self.client.post("/login/", {"login": "C-1001", "password": PASSWORD})

        self.assertEqual(response.status_code, 302)

    def test_it_allows_ten_attempts(self):
        for _ in range(9):
            self.fail("C-1001")

        response = self.client.post("/login/", {"login": "C-1001", "password": PASSWORD})

        self.assertEqual(response.status_code, 302)

    def test_it_throttles_staff_sign_in_too(self):
        for _ in range(10):
            self.client.post("/staff/login/", {"username": "sam", "password": "x", "otp": "1"})
        code = pyotp.TOTP(self.supporter.otp_secret).at(clock.now())

        response = self.client.post(
            "/staff/login/", {"username": "sam", "password": PASSWORD, "otp": code}
        )

        self.assertContains(response, "Too many", status_code=400)

    def test_it_counts_wrong_codes_after_the_right_password(self):
        for _ in range(10):
            self.client.post(
                "/staff/login/", {"username": "sam", "password": PASSWORD, "otp": "000000"}
            )

        response = self.client.post(
            "/staff/login/",
            {"username": "sam", "password": PASSWORD, "otp": self.code_for(self.supporter)},
        )

        self.assertContains(response, "Too many", status_code=400)
        self.assertNotIn("staff", self.client.session)

    def test_it_counts_wrong_codes_on_the_enrolment_page(self):
        self.client.post("/staff/login/", {"username": "sam", "password": PASSWORD})
        for _ in range(10):
            self.assertEqual(self.client.post("/staff/enrol/", {"otp": "000000"}).status_code, 400)

        response = self.client.post("/staff/enrol/", {"otp": self.code_for(self.supporter)})

        self.assertContains(response, "Too many", status_code=400)
        self.assertNotIn("staff", self.client.session)
        self.supporter.refresh_from_db()
        self.assertIsNone(self.supporter.otp_confirmed_at)


class StaffSessionTimeTests(WebTestCase):
    def test_it_keeps_an_active_session_under_sixty_minutes_idle(self):
        self.sign_in_staff()
        self.travel_to(clock.now() + timedelta(minutes=59, seconds=59))

        self.page("/support/")

    def test_it_ends_a_session_after_sixty_minutes_idle(self):
        self.sign_in_staff()
        self.travel_to(clock.now() + timedelta(minutes=60))

        response = self.client.get("/support/")

        self.assertRedirects(
            response, "/staff/login/?next=/support/", fetch_redirect_response=False
        )
        self.assertNotIn("staff", self.client.session)

    def test_it_ends_an_active_session_after_twelve_hours(self):
        self.sign_in_staff()
        signed_in = clock.now()
        moment = signed_in
        while moment < signed_in + timedelta(hours=11, minutes=59):
            moment = min(
                moment + timedelta(minutes=50), signed_in + timedelta(hours=11, minutes=59)
            )
            self.travel_to(moment)
            self.page("/support/")

        self.travel_to(signed_in + timedelta(hours=12))
        response = self.client.get("/support/")

        self.assertRedirects(
            response, "/staff/login/?next=/support/", fetch_redirect_response=False
        )


class CsrfTests(WebTestCase):
    """Every form is a POST with a CSRF token; a forged POST from another site is refused."""

    def enforce_csrf(self):
        self.client.handler.enforce_csrf_checks = True

    def test_it_refuses_a_sign_in_without_a_token(self):
        self.enforce_csrf()

        response = self.client.post("/login/", {"login": "C-1001", "password": PASSWORD})

        self.assertEqual(response.status_code, 403)
        self.assertNotIn("customer", self.client.session)

    def test_it_accepts_a_sign_in_with_the_pages_token(self):
        self.enforce_csrf()
        token = self.csrf_token(self.page("/login/"))

        response = self.client.post(
            "/login/", {"login": "C-1001", "password": PASSWORD, "csrfmiddlewaretoken": token}
        )

        self.assertEqual(response.status_code, 302)

    def test_it_refuses_a_new_pin_without_a_token(self):
        self.sign_in_customer()
        pin = self.current_pin()
        self.enforce_csrf()

        response = self.client.post("/portal/support/new/")

        self.assertEqual(response.status_code, 403)
        self.assertEqual(self.current_pin(), pin)
        token = self.csrf_token(self.page("/portal/support/"))
        allowed = self.client.post("/portal/support/new/", {"csrfmiddlewaretoken": token})
        self.assertEqual(allowed.status_code, 302)
        self.assertNotEqual(self.current_pin(), pin)

    def test_it_refuses_a_pin_entry_without_a_token(self):
        pin = self.current_pin()
        self.sign_in_staff(self.supporter)
        self.enforce_csrf()

        response = self.client.post("/support/", {"customer": "C-1001", "pin": pin})

        self.assertEqual(response.status_code, 403)
        self.assertEqual(self.get("/me/grants", self.token_for(self.customer)).json(), [])
        token = self.csrf_token(self.page("/support/"))
        allowed = self.client.post(
            "/support/", {"customer": "C-1001", "pin": pin, "csrfmiddlewaretoken": token}
        )
        self.assertEqual(allowed.status_code, 302)


class ContentSecurityPolicyTests(WebTestCase):
    """Every page keeps the strict CSP (WebTestCase.page checks it on every page in these tests)."""

    def test_it_sends_the_policy_on_public_and_error_pages(self):
        for path, status in (
            ("/login/", 200),
            ("/staff/login/", 200),
            ("/portal/tickets/1/", 302),
            ("/no-such-page/", 404),
        ):
            with self.subTest(path):
                self.page(path, status=status)

    def test_it_sends_the_policy_on_failed_forms(self):
        self.assertCleanPage(self.client.post("/login/", {"login": "", "password": ""}))
        self.assertCleanPage(self.client.post("/staff/login/", {"username": "sam"}))

    def test_it_detects_inline_script_and_style(self):
        from django.http import HttpResponse

        for html in (
            "<script>alert(1)</script>",
            '<p style="color:red">x</p>',
            '<a onclick="x()">',
        ):
            with self.subTest(html), self.assertRaises(AssertionError):
                response = HttpResponse(html)
                response["Content-Security-Policy"] = "script-src 'self'"
                self.assertCleanPage(response)

    def test_it_keeps_every_signed_in_page_clean(self):
        self.redeem(self.current_pin())
        ticket = self.post(
            "/me/tickets", {"subject": "S", "message": "M"}, self.token_for(self.customer)
        ).json()["id"]
        self.sign_in_customer()
        for path in (
            "/portal/",
            "/portal/support/",
            "/portal/data/",
            "/portal/access/",
            "/portal/tickets/",
            "/portal/tickets/new/",
            f"/portal/tickets/{ticket}/",
        ):
            with self.subTest(path):
                self.page(path)
        self.client.post("/logout/")
        self.sign_in_staff(self.admin)
        for path in (
            "/support/",
            "/support/tickets/",
            f"/support/tickets/{ticket}/",
            "/staff-admin/",
            "/staff-admin/audit/",
            "/support/products/gs-1/",
        ):
            with self.subTest(path):
                self.page(path, status=404 if "products" in path else 200)
        self.client.post("/logout/")
        self.sign_in_staff(self.supporter)
        for path in ("/support/customers/C-1001/", "/support/products/gs-1/"):
            with self.subTest(path):
                self.page(path)
        self.page("/staff-admin/", status=403)
