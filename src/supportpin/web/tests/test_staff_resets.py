"""An admin resets a supporter's second factor or password: audited, and their sessions end."""

import re
from datetime import timedelta

import pyotp

from supportpin.accounts.actions import SYSTEM, sync_staff
from supportpin.accounts.models import Passkey, Role, Staff
from supportpin.audit.models import AuditEntry
from supportpin.web.tests.browser import CONFIRMED, WebTestCase, shown_key
from testsupport import PASSWORD, START, queued_emails

NEW_PASSWORD = "a brand-new long password"
LINK = re.compile(r"https?://testserver(/staff/password/\S+/)")


class StaffResetTestCase(WebTestCase):
    def setUp(self):
        super().setUp()
        self.admin_browser = self.browser()
        self.sign_in_staff(self.admin, client=self.admin_browser)

    def reset(self, change: str, staff: Staff | None = None, client=None, data=CONFIRMED):
        staff = staff or self.supporter
        return (client or self.admin_browser).post(
            f"/staff-admin/{staff.pk}/{change}/", data, follow=True
        )

    def entries(self, event: str) -> list[AuditEntry]:
        return list(AuditEntry.objects.filter(event=event).order_by("id"))

    def sam_signs_in(self, password: str = PASSWORD, otp: str = ""):
        return self.browser().post(
            "/staff/login/", {"username": "sam", "password": password, "otp": otp}
        )


class SecondFactorResetTests(StaffResetTestCase):
    def test_it_asks_before_it_resets(self):
        asked = self.reset("reset-second-factor", data={})

        self.assertContains(asked, "Reset the second factor of Sam S.?")
        self.assertEqual(self.entries("staff_second_factor_reset"), [])
        signed_in = self.sam_signs_in(otp=self.code_for(self.supporter))
        self.assertRedirects(signed_in, "/support/", fetch_redirect_response=False)

    def test_it_offers_both_resets_with_a_confirmation_for_other_staff_only(self):
        page = self.page("/staff-admin/", client=self.admin_browser)

        html = page.content.decode()
        self.assertIn(f"/staff-admin/{self.supporter.pk}/reset-second-factor/", html)
        self.assertIn(f"/staff-admin/{self.supporter.pk}/reset-password/", html)
        self.assertIn('data-confirm="Reset the password of Sam S.?', html)
        self.assertNotIn(f"/staff-admin/{self.admin.pk}/reset-", html)

    def test_it_ends_the_supporters_sessions_and_tokens_and_audits_it(self):
        token = self.token_for(self.supporter)
        self.sign_in_staff(self.supporter)

        done = self.reset("reset-second-factor")

        self.assertContains(done, "Sam S. sets up a second factor again at their next sign-in.")
        self.assertEqual(self.get("/support/grants", token).status_code, 401)
        self.assertRedirects(
            self.client.get("/support/"), "/staff/login/?next=/support/", target_status_code=200
        )
        (entry,) = self.entries("staff_second_factor_reset")
        self.assertEqual((entry.actor_kind, entry.actor), ("admin", "Ada A."))
        self.assertEqual(entry.detail, {"staff": "sam"})

    def test_it_refuses_the_old_authenticator_and_sends_the_supporter_to_enrol(self):
        old_secret = Staff.objects.get(pk=self.supporter.pk).otp_secret
        self.reset("reset-second-factor")
        self.travel_to(START + timedelta(minutes=1))

        old_code = self.sam_signs_in(otp=pyotp.TOTP(old_secret).now())
        enrol = self.sam_signs_in()

        self.assertEqual(old_code.status_code, 400)
        self.assertRedirects(enrol, "/staff/enrol/", fetch_redirect_response=False)
        token = self.post(
            "/auth/token",
            {"username": "sam", "password": PASSWORD, "otp": pyotp.TOTP(old_secret).now()},
        )
        self.assertProblem(token, 401, "invalid_credentials")

    def test_it_lets_the_supporter_set_up_a_new_authenticator(self):
        self.reset("reset-second-factor")
        sam = self.browser()
        sam.post("/staff/login/", {"username": "sam", "password": PASSWORD})
        secret = shown_key(self.page("/staff/enrol/", client=sam))

        done = sam.post("/staff/enrol/", {"otp": pyotp.TOTP(secret).now()})

        self.assertRedirects(done, "/support/", fetch_redirect_response=False)

    def test_it_removes_the_supporters_passkeys(self):
        Passkey.objects.create(
            staff=self.supporter,
            credential_id=b"credential",
            public_key=b"key",
            name="YubiKey",
            created_at=START,
        )

        self.reset("reset-second-factor")

        self.assertFalse(Passkey.objects.filter(staff=self.supporter).exists())


class StaffPasswordResetTests(StaffResetTestCase):
    def mailed_link(self) -> str:
        (mail,) = queued_emails("sam@staff.example")
        return LINK.search(mail["body"]).group(1)

    def test_it_asks_before_it_resets(self):
        asked = self.reset("reset-password", data={})

        self.assertContains(asked, "Reset the password of Sam S.?")
        self.assertEqual(self.sam_signs_in(otp=self.code_for(self.supporter)).status_code, 302)

    def test_it_voids_the_password_ends_sessions_and_audits_it(self):
        token = self.token_for(self.supporter)
        self.sign_in_staff(self.supporter)

        done = self.reset("reset-password")

        self.assertContains(done, "Sam S. gets an e-mail with a link to choose a new password.")
        self.assertEqual(self.sam_signs_in(otp=self.code_for(self.supporter)).status_code, 400)
        self.assertEqual(self.get("/support/grants", token).status_code, 401)
        self.assertRedirects(
            self.client.get("/support/"), "/staff/login/?next=/support/", target_status_code=200
        )
        (entry,) = self.entries("staff_password_reset")
        self.assertEqual((entry.actor_kind, entry.actor), ("admin", "Ada A."))

    def test_it_lets_the_supporter_choose_a_new_password_through_the_link_once(self):
        self.reset("reset-password")
        path = self.mailed_link()
        self.page(path)

        chosen = self.client.post(path, {"password": NEW_PASSWORD, "repeated": NEW_PASSWORD})
        again = self.client.post(
            path, {"password": "another long one", "repeated": "another long one"}
        )

        self.assertRedirects(chosen, "/staff/login/", fetch_redirect_response=False)
        self.assertContains(again, "Link not valid", status_code=400)
        signed_in = self.sam_signs_in(NEW_PASSWORD, otp=self.code_for(self.supporter))
        self.assertRedirects(signed_in, "/support/", fetch_redirect_response=False)
        (changed,) = self.entries("staff_password_changed")
        self.assertEqual((changed.actor_kind, changed.actor), ("supporter", "Sam S."))

    def test_it_keeps_the_link_good_through_a_second_factor_reset(self):
        self.reset("reset-password")
        self.reset("reset-second-factor")
        path = self.mailed_link()

        chosen = self.client.post(path, {"password": NEW_PASSWORD, "repeated": NEW_PASSWORD})

        self.assertRedirects(chosen, "/staff/login/", fetch_redirect_response=False)
        self.assertRedirects(
            self.sam_signs_in(NEW_PASSWORD), "/staff/enrol/", fetch_redirect_response=False
        )

    def test_it_refuses_the_link_after_its_hour(self):
        self.reset("reset-password")
        path = self.mailed_link()

        self.travel_to(START + timedelta(hours=1, seconds=1))

        refused = self.client.post(path, {"password": NEW_PASSWORD, "repeated": NEW_PASSWORD})
        self.assertContains(refused, "Link not valid", status_code=400)

    def test_it_tells_the_admin_when_the_supporter_has_no_address(self):
        sync_staff(
            username="sam",
            display_name="Sam S.",
            password=PASSWORD,
            role=Role.SUPPORTER,
            active=True,
            email="",
            now=START,
            by=SYSTEM,
        )

        refused = self.reset("reset-password")

        self.assertContains(refused, "has no e-mail address")
        self.assertEqual(self.entries("staff_password_reset"), [])
        self.assertEqual(self.sam_signs_in(otp=self.code_for(self.supporter)).status_code, 302)


class StaffResetPermissionTests(StaffResetTestCase):
    def test_it_refuses_a_supporter_with_403(self):
        self.sign_in_staff(self.supporter)

        for change in ("reset-second-factor", "reset-password"):
            with self.subTest(change):
                response = self.client.post(
                    f"/staff-admin/{self.other_supporter.pk}/{change}/", CONFIRMED
                )
                self.assertEqual(response.status_code, 403)
        self.assertEqual(self.entries("staff_second_factor_reset"), [])
        self.assertEqual(self.entries("staff_password_reset"), [])
        self.assertEqual(self.sam_signs_in(otp=self.code_for(self.supporter)).status_code, 302)

    def test_it_refuses_an_admin_their_own_account(self):
        for change in ("reset-second-factor", "reset-password"):
            with self.subTest(change):
                refused = self.reset(change, staff=self.admin)
                self.assertContains(refused, "You cannot do this to your own account.")
        self.assertEqual(self.entries("staff_second_factor_reset"), [])
        self.assertEqual(self.entries("staff_password_reset"), [])
