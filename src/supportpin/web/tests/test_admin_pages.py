from supportpin.accounts.models import Staff
from supportpin.audit.actions import seal
from supportpin.audit.models import AuditEntry
from supportpin.web.tests.browser import CONFIRMED, WebTestCase, shown_key
from testsupport import PASSWORD, START

NEW_SUPPORTER = {
    "username": "nina",
    "display_name": "Nina N.",
    "password": "a long initial password",
    "role": "supporter",
    "email": "nina@staff.example",
}


class AdminAccessTests(WebTestCase):
    def test_it_refuses_a_supporter_with_403(self):
        self.sign_in_staff(self.supporter)

        for path in ("/staff-admin/", "/staff-admin/audit/"):
            with self.subTest(path):
                self.page(path, status=403)
        self.assertEqual(self.client.post("/staff-admin/", NEW_SUPPORTER).status_code, 403)
        self.assertFalse(Staff.objects.filter(username="nina").exists())
        disable = self.client.post(f"/staff-admin/{self.other_supporter.pk}/disable/")
        self.assertEqual(disable.status_code, 403)
        self.assertTrue(Staff.objects.get(pk=self.other_supporter.pk).is_active)

    def test_it_sends_visitors_and_customers_to_the_staff_sign_in(self):
        self.assertRedirects(
            self.client.get("/staff-admin/"),
            "/staff/login/?next=/staff-admin/",
            fetch_redirect_response=False,
        )
        self.sign_in_customer()
        self.assertRedirects(
            self.client.get("/staff-admin/audit/"),
            "/staff/login/?next=/staff-admin/audit/",
            fetch_redirect_response=False,
        )

    def test_it_shows_the_admin_pages_to_an_admin(self):
        self.sign_in_staff(self.admin)

        staff = self.page("/staff-admin/")

        for name in ("Sam S.", "Olga O.", "Ada A."):
            self.assertContains(staff, name)
        self.page("/staff-admin/audit/")


class SupporterAccountTests(WebTestCase):
    def setUp(self):
        super().setUp()
        self.sign_in_staff(self.admin)

    def test_it_creates_a_supporter_who_is_sent_to_enrolment(self):
        response = self.client.post("/staff-admin/", NEW_SUPPORTER, follow=True)

        self.assertRedirects(response, "/staff-admin/")
        self.assertContains(response, "Nina N.")
        nina = self.browser()
        signed_in = nina.post(
            "/staff/login/", {"username": "nina", "password": "a long initial password"}
        )
        self.assertRedirects(signed_in, "/staff/enrol/", fetch_redirect_response=False)
        enrol = self.page("/staff/enrol/", client=nina)
        self.assertRegex(enrol.content.decode(), r"<svg[^>]*>")
        self.assertEqual(shown_key(enrol), Staff.objects.get(username="nina").otp_secret)

    def test_it_refuses_a_taken_username(self):
        response = self.client.post("/staff-admin/", {**NEW_SUPPORTER, "username": "sam"})

        self.assertEqual(response.status_code, 400)
        self.assertCleanPage(response)
        self.assertEqual(Staff.objects.get(username="sam").display_name, "Sam S.")
        sam = self.browser()
        self.sign_in_staff(self.supporter, client=sam)

    def test_it_refuses_a_short_password(self):
        response = self.client.post("/staff-admin/", {**NEW_SUPPORTER, "password": "short"})

        self.assertEqual(response.status_code, 400)
        self.assertFalse(Staff.objects.filter(username="nina").exists())

    def test_it_disables_a_supporter_and_ends_their_session_and_token(self):
        sam = self.browser()
        self.sign_in_staff(self.supporter, client=sam)
        token = self.token_for(self.supporter)
        self.assertEqual(self.get("/support/grants", token).status_code, 200)

        response = self.client.post(
            f"/staff-admin/{self.supporter.pk}/disable/", CONFIRMED, follow=True
        )

        self.assertRedirects(response, "/staff-admin/")
        self.assertContains(response, f"/staff-admin/{self.supporter.pk}/enable/")
        self.assertRedirects(
            sam.get("/support/"), "/staff/login/?next=/support/", fetch_redirect_response=False
        )
        self.assertEqual(self.get("/support/grants", token).status_code, 401)
        refused = self.browser().post(
            "/staff/login/",
            {"username": "sam", "password": PASSWORD, "otp": self.code_for(self.supporter)},
        )
        self.assertEqual(refused.status_code, 400)

    def test_it_ends_a_disabled_supporters_pin_access(self):
        self.redeem(self.current_pin())
        self.assertEqual(
            self.get("/support/products/gs-1", self.token_for(self.supporter)).status_code, 200
        )

        self.client.post(f"/staff-admin/{self.supporter.pk}/disable/", CONFIRMED)
        self.client.post(f"/staff-admin/{self.supporter.pk}/enable/")

        self.assertEqual(
            self.get("/support/products/gs-1", self.token_for(self.supporter)).status_code, 404
        )

    def test_it_enables_a_disabled_supporter_again(self):
        self.client.post(f"/staff-admin/{self.supporter.pk}/disable/", CONFIRMED)

        response = self.client.post(f"/staff-admin/{self.supporter.pk}/enable/", follow=True)

        self.assertContains(response, f"/staff-admin/{self.supporter.pk}/disable/")
        self.sign_in_staff(self.supporter, client=self.browser())

    def test_it_does_not_let_an_admin_disable_themselves(self):
        response = self.client.post(
            f"/staff-admin/{self.admin.pk}/disable/", CONFIRMED, follow=True
        )

        self.assertTrue(self.messages_of(response))
        self.assertTrue(Staff.objects.get(pk=self.admin.pk).is_active)
        self.page("/staff-admin/")

    def test_it_refuses_changes_on_get(self):
        response = self.client.get(f"/staff-admin/{self.supporter.pk}/disable/")

        self.assertEqual(response.status_code, 405)
        self.assertTrue(Staff.objects.get(pk=self.supporter.pk).is_active)


class LockoutTests(WebTestCase):
    def setUp(self):
        super().setUp()
        self.pin = self.current_pin()
        for n in range(10):
            self.redeem(f"{n:06d}", customer=f"C-X{n}")
        self.assertProblem(self.redeem(self.pin), 429, "too_many_attempts")
        self.sign_in_staff(self.admin)

    def test_it_lists_the_lockout_and_the_wrong_pins(self):
        page = self.page("/staff-admin/")

        html = page.content.decode()
        self.assertIn('data-testid="staff-sam"', html)
        self.assertIn(f"/staff-admin/{self.supporter.pk}/unlock/", html)
        self.assertRegex(html, r"Sam S\. \(10 ")
        for n in range(10):
            self.assertIn(f"C-X{n}", html)
        self.assertNotIn(f"/staff-admin/{self.other_supporter.pk}/unlock/", html)

    def test_it_unlocks_a_blocked_supporter(self):
        response = self.client.post(f"/staff-admin/{self.supporter.pk}/unlock/", follow=True)

        self.assertRedirects(response, "/staff-admin/")
        self.assertNotContains(response, f"/staff-admin/{self.supporter.pk}/unlock/")
        self.assertEqual(self.redeem(self.pin).status_code, 201)

    def test_it_keeps_the_block_without_an_unlock(self):
        self.client.get("/staff-admin/")

        self.assertProblem(self.redeem(self.pin), 429, "too_many_attempts")


class AuditStatusPageTests(WebTestCase):
    def setUp(self):
        super().setUp()
        self.redeem(self.current_pin())
        self.get("/support/products/gs-1", self.token_for(self.supporter))
        self.sign_in_staff(self.admin)
        seal(now=START)

    def status_text(self, response) -> str:
        html = response.content.decode()
        start = html.index('data-testid="audit-status"')
        return html[start : html.index("</div>", start)]

    def test_it_says_the_chain_is_intact(self):
        text = self.status_text(self.page("/staff-admin/audit/"))

        self.assertIn("intact", text)
        self.assertNotIn("broken", text)

    def test_it_says_the_chain_is_broken_after_tampering(self):
        entry = AuditEntry.objects.order_by("id").first()
        AuditEntry.objects.filter(pk=entry.pk).update(actor="Somebody else")

        text = self.status_text(self.page("/staff-admin/audit/"))

        self.assertIn("broken", text)
        self.assertNotIn("intact", text)

    def test_it_says_the_chain_is_broken_after_a_deletion(self):
        AuditEntry.objects.filter(pk=AuditEntry.objects.order_by("id")[1].pk).delete()

        self.assertIn("broken", self.status_text(self.page("/staff-admin/audit/")))
