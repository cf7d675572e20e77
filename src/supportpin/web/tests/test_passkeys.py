"""Passkeys as the staff's second factor: the pages and endpoints around the browser ceremony.

The ceremonies themselves run in the real browser (test_passkeys_e2e.py).
"""

import json
import re

from django.test import override_settings

from supportpin.accounts.actions import add_passkey
from supportpin.accounts.models import Passkey, SignInFailures
from supportpin.audit.models import AuditEntry, Event
from supportpin.lib import clock
from supportpin.web.tests.browser import WebTestCase
from testsupport import PASSWORD, queued_emails


class PasskeyTestCase(WebTestCase):
    def give_passkey(self, staff, name="YubiKey") -> Passkey:
        return add_passkey(
            staff=staff,
            name=name,
            credential_id=f"credential-of-{staff.username}-{name}".encode(),
            public_key=b"not a real key",
            sign_count=0,
            now=clock.now(),
        )

    def password_only(self, staff, client=None):
        return (client or self.client).post(
            "/staff/login/", {"username": staff.username, "password": PASSWORD, "otp": ""}
        )

    def post_json(self, path: str, body, client=None):
        return (client or self.client).post(path, json.dumps(body), content_type="application/json")


class PasskeysPageTests(PasskeyTestCase):
    def test_signed_out_visitors_are_sent_to_sign_in(self):
        for path in ("/support/passkeys/", "/support/passkeys/options/"):
            with self.subTest(path):
                response = self.client.post(path)

                self.assertEqual(response.status_code, 302)
                self.assertTrue(response["Location"].startswith("/staff/login/"))

    def test_the_page_lists_the_staff_members_own_passkeys(self):
        self.give_passkey(self.supporter, "Laptop")
        self.give_passkey(self.other_supporter, "Olga's key")
        self.sign_in_staff(self.supporter)

        page = self.page("/support/passkeys/")

        self.assertContains(page, "Laptop")
        self.assertNotContains(page, "Olga")
        self.assertContains(page, 'src="/static/web/passkeys.js"')
        self.assertContains(self.page("/support/"), 'href="/support/passkeys/"')

    def test_registration_options_name_the_relying_party_and_exclude_known_keys(self):
        self.give_passkey(self.supporter, "Laptop")
        self.sign_in_staff(self.supporter)

        options = self.client.post("/support/passkeys/options/").json()

        self.assertEqual(options["rp"]["id"], "localhost")
        self.assertEqual(options["user"]["name"], "sam")
        self.assertEqual(len(options["excludeCredentials"]), 1)
        self.assertEqual(options["authenticatorSelection"]["residentKey"], "required")

    def test_a_registration_that_proves_nothing_is_refused(self):
        self.sign_in_staff(self.supporter)
        for body in ({"credential": {"id": "x"}}, {"name": "A"}, "not an object"):
            with self.subTest(body=body):
                self.client.post("/support/passkeys/options/")

                response = self.post_json("/support/passkeys/new/", body)

                self.assertEqual(response.status_code, 400)
                self.assertIn("could not be registered", response.json()["error"])
        self.assertFalse(Passkey.objects.exists())

    def test_a_new_passkey_is_audited_and_mailed_to_its_owner(self):
        self.give_passkey(self.supporter, "Laptop")

        entry = AuditEntry.objects.get(event=Event.PASSKEY_ADDED)
        self.assertEqual(entry.detail, {"staff": "sam", "passkey": "Laptop"})
        (mail,) = queued_emails("sam@staff.example")
        self.assertIn("Laptop", mail["subject"])

    def test_a_staff_member_removes_their_passkey_but_not_anyone_elses(self):
        own = self.give_passkey(self.supporter, "Laptop")
        other = self.give_passkey(self.other_supporter, "Olga's key")
        self.sign_in_staff(self.supporter)

        self.assertEqual(self.client.post(f"/support/passkeys/{other.pk}/remove/").status_code, 404)
        response = self.client.post(f"/support/passkeys/{own.pk}/remove/")

        self.assertRedirects(response, "/support/passkeys/", fetch_redirect_response=False)
        self.assertEqual(list(Passkey.objects.values_list("name", flat=True)), ["Olga's key"])
        entry = AuditEntry.objects.get(event=Event.PASSKEY_REMOVED)
        self.assertEqual(entry.detail, {"staff": "sam", "passkey": "Laptop"})


class PasskeySignInTests(PasskeyTestCase):
    def test_staff_with_a_passkey_get_the_second_factor_step_after_the_password(self):
        self.give_passkey(self.supporter)

        response = self.password_only(self.supporter)

        self.assertRedirects(response, "/staff/login/code/", fetch_redirect_response=False)
        page = self.page("/staff/login/code/")
        self.assertContains(page, "Sign in with a passkey")
        self.assertContains(page, 'name="otp"')
        self.assertRedirects(
            self.client.get("/support/"),
            "/staff/login/?next=/support/",
            fetch_redirect_response=False,
        )

    def test_the_code_still_works_there_unless_passkeys_are_required(self):
        self.give_passkey(self.supporter)
        self.password_only(self.supporter)

        response = self.client.post("/staff/login/code/", {"otp": self.code_for(self.supporter)})

        self.assertRedirects(response, "/support/", fetch_redirect_response=False)
        entry = AuditEntry.objects.get(event=Event.STAFF_SIGNED_IN)
        self.assertEqual(entry.detail["method"], "password+totp")

    def test_without_a_pending_sign_in_the_passkey_endpoints_refuse(self):
        for path in ("/staff/login/passkey/options/", "/staff/login/passkey/"):
            with self.subTest(path):
                response = self.post_json(path, {})

                self.assertEqual(response.status_code, 400)
                self.assertIn("sign in again", response.json()["error"])

    def test_an_answer_without_options_first_is_refused(self):
        self.give_passkey(self.supporter)
        self.password_only(self.supporter)

        response = self.post_json("/staff/login/passkey/", {"credential": {}})

        self.assertEqual(response.status_code, 400)

    def test_a_forged_answer_is_refused_and_counted(self):
        passkey = self.give_passkey(self.supporter)
        self.password_only(self.supporter)
        options = self.client.post("/staff/login/passkey/options/").json()
        self.assertEqual(options["rpId"], "localhost")
        self.assertEqual(options.get("allowCredentials", []), [])
        raw_id = "Y3JlZGVudGlhbC1vZi1zYW0tWXViaUtleQ"  # base64url of the stored id
        self.assertEqual(bytes(passkey.credential_id), b"credential-of-sam-YubiKey")

        forged = {"id": raw_id, "rawId": raw_id, "type": "public-key", "response": {}}
        response = self.post_json("/staff/login/passkey/", {"credential": forged})

        self.assertEqual(response.status_code, 400)
        self.assertIn("not accepted", response.json()["error"])
        self.assertTrue(SignInFailures.objects.filter(key="sign-in-login:sam").exists())
        self.assertRedirects(
            self.client.get("/support/"),
            "/staff/login/?next=/support/",
            fetch_redirect_response=False,
        )
        # The challenge is spent: a second try needs new options.
        again = self.post_json("/staff/login/passkey/", {"credential": forged})
        self.assertIn("sign in again", again.json()["error"])


@override_settings(SUPPORTPIN_STAFF_2FA="passkey")
class PasskeysRequiredTests(PasskeyTestCase):
    def test_the_code_counts_for_nothing_for_staff_with_a_passkey(self):
        self.give_passkey(self.supporter)
        response = self.client.post(
            "/staff/login/",
            {"username": "sam", "password": PASSWORD, "otp": self.code_for(self.supporter)},
        )
        self.assertRedirects(response, "/staff/login/code/", fetch_redirect_response=False)
        self.assertNotContains(self.page("/staff/login/code/"), 'name="otp"')

        response = self.client.post("/staff/login/code/", {"otp": self.code_for(self.supporter)})

        self.assertEqual(response.status_code, 400)
        self.assertFalse(AuditEntry.objects.filter(event=Event.STAFF_SIGNED_IN).exists())

    def test_staff_without_a_passkey_must_register_one_before_anything_else(self):
        self.sign_in_staff(self.supporter)

        response = self.client.get("/support/tickets/")

        self.assertRedirects(response, "/support/passkeys/", fetch_redirect_response=False)
        self.assertContains(self.page("/support/passkeys/"), "Add a passkey")

    @override_settings(
        SUPPORTPIN_FORWARD_AUTH_ROUTES=[re.compile(r"^/server/(?P<product>[A-Za-z0-9_-]+)(/|$)")]
    )
    def test_forward_auth_lets_no_one_through_before_they_have_a_passkey(self):
        self.redeem(self.current_pin())
        self.sign_in_staff(self.supporter)
        proxied = {"X-Original-URI": "/server/gs-1/"}
        self.assertEqual(self.client.get("/auth/forward", headers=proxied).status_code, 401)

        self.give_passkey(self.supporter)

        self.assertEqual(self.client.get("/auth/forward", headers=proxied).status_code, 200)

    def test_the_api_refuses_staff_passwords(self):
        response = self.post(
            "/auth/token",
            {"username": "sam", "password": PASSWORD, "otp": self.code_for(self.supporter)},
        )

        self.assertProblem(response, 403, "passkey_required")
