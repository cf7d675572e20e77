"""A new password, a disabled account or an admin's "end sessions" ends every token and web
session at once; the same password sent again ends nothing."""

from supportpin.accounts.models import Customer, Staff
from supportpin.web.tests.browser import WebTestCase
from testsupport import PASSWORD

NEW_PASSWORD = "a brand-new long password"


class StaffPasswordChangeTests(WebTestCase):
    def put_sam(self, password: str, token: str | None = None):
        body = {"display_name": "Sam S.", "password": password, "role": "supporter"}
        return self.put("/staff/sam", body, token or self.api_key)

    def test_it_ends_tokens_and_web_sessions_on_a_new_password(self):
        token = self.token_for(self.supporter)
        self.sign_in_staff()

        self.assertEqual(self.put_sam(NEW_PASSWORD).status_code, 200)

        self.assertProblem(self.get("/support/grants", token), 401, "unauthorized")
        self.assertRedirects(
            self.client.get("/support/"), "/staff/login/?next=/support/", target_status_code=200
        )

    def test_it_ends_them_when_an_admin_sets_the_new_password(self):
        token = self.token_for(self.supporter)

        self.assertEqual(self.put_sam(NEW_PASSWORD, self.token_for(self.admin)).status_code, 200)

        self.assertEqual(self.get("/support/grants", token).status_code, 401)

    def test_it_keeps_tokens_and_web_sessions_when_the_same_password_comes_again(self):
        token = self.token_for(self.supporter)
        self.sign_in_staff()
        stored = Staff.objects.get(pk=self.supporter.pk).password

        self.assertEqual(self.put_sam(PASSWORD).status_code, 200)

        self.assertEqual(self.get("/support/grants", token).status_code, 200)
        self.page("/support/")
        self.assertEqual(Staff.objects.get(pk=self.supporter.pk).password, stored)

    def test_it_lets_the_new_password_sign_in(self):
        self.put_sam(NEW_PASSWORD)

        response = self.client.post(
            "/staff/login/",
            {"username": "sam", "password": NEW_PASSWORD, "otp": self.code_for(self.supporter)},
        )

        self.assertRedirects(response, "/support/", fetch_redirect_response=False)
        self.page("/support/")


class CustomerPasswordChangeTests(WebTestCase):
    def put_customer(self, password: str):
        body = {"name": "Carla C.", "email": "carla@example.com", "password": password}
        return self.put("/customers/C-1001", body, self.api_key)

    def test_it_ends_tokens_and_web_sessions_on_a_new_password(self):
        token = self.token_for(self.customer)
        self.sign_in_customer()

        self.assertEqual(self.put_customer(NEW_PASSWORD).status_code, 200)

        self.assertEqual(self.get("/me", token).status_code, 401)
        self.assertRedirects(
            self.client.get("/portal/"), "/login/?next=/portal/", fetch_redirect_response=False
        )

    def test_it_keeps_tokens_and_web_sessions_when_the_same_password_comes_again(self):
        token = self.token_for(self.customer)
        self.sign_in_customer()
        stored = Customer.objects.get(pk=self.customer.pk).password

        self.assertEqual(self.put_customer(PASSWORD).status_code, 200)

        self.assertEqual(self.get("/me", token).status_code, 200)
        self.page("/portal/")
        self.assertEqual(Customer.objects.get(pk=self.customer.pk).password, stored)


class EndStaffSessionsTests(WebTestCase):
    def test_it_ends_every_token_and_web_session_for_the_integration(self):
        tokens = [self.token_for(self.supporter), self.token_for(self.supporter)]
        self.sign_in_staff()
        other_browser = self.browser()
        self.sign_in_staff(client=other_browser)

        response = self.delete("/staff/sam/sessions", self.api_key)

        self.assertEqual(response.status_code, 204)
        for token in tokens:
            self.assertEqual(self.get("/support/grants", token).status_code, 401)
        for browser in (self.client, other_browser):
            response = browser.get("/support/")
            self.assertRedirects(response, "/staff/login/?next=/support/")

    def test_it_ends_them_for_an_admin(self):
        token = self.token_for(self.supporter)

        response = self.delete("/staff/sam/sessions", self.token_for(self.admin))

        self.assertEqual(response.status_code, 204)
        self.assertEqual(self.get("/support/grants", token).status_code, 401)

    def test_it_keeps_other_staff_signed_in(self):
        token = self.token_for(self.other_supporter)
        self.sign_in_staff(self.other_supporter)

        self.delete("/staff/sam/sessions", self.api_key)

        self.assertEqual(self.get("/support/grants", token).status_code, 200)
        self.page("/support/")

    def test_it_lets_the_staff_member_sign_in_again(self):
        self.delete("/staff/sam/sessions", self.api_key)

        self.sign_in_staff()

        self.page("/support/")

    def test_it_refuses_a_supporter(self):
        response = self.delete("/staff/olga/sessions", self.token_for(self.supporter))

        self.assertProblem(response, 403, "forbidden")

    def test_it_answers_an_unknown_username_with_404(self):
        self.assertProblem(self.delete("/staff/nobody/sessions", self.api_key), 404, "not_found")


class DisabledStaffSessionTests(WebTestCase):
    def set_active(self, active: bool):
        body = {"display_name": "Sam S.", "password": PASSWORD, "role": "supporter"}
        response = self.put("/staff/sam", body | {"active": active}, self.api_key)
        self.assertEqual(response.status_code, 200, response.content)

    def test_it_does_not_bring_old_sessions_back_on_enable(self):
        token = self.token_for(self.supporter)
        self.sign_in_staff()

        self.set_active(False)
        self.set_active(True)

        self.assertEqual(self.get("/support/grants", token).status_code, 401)
        self.assertRedirects(self.client.get("/support/"), "/staff/login/?next=/support/")
