"""Staff sign-in through an OpenID Connect provider: a real one, in its own process."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import requests
from django.test import Client, override_settings

from supportpin.accounts.actions import SYSTEM, end_staff_sessions, set_staff_active
from supportpin.accounts.models import Staff
from supportpin.audit.models import AuditEntry, Event
from supportpin.lib import clock
from supportpin.web.tests.browser import WebTestCase
from testsupport import PASSWORD, START
from testsupport.oidc_provider import running_provider

CLIENT_ID = "support-pin"
CLIENT_SECRET = "test-client-secret"


class OidcTestCase(WebTestCase):
    """A provider per class; SUPPORTPIN_OIDC_* point at it, `otp` and `hwk` count as MFA."""

    issuer: str

    @classmethod
    def setUpClass(cls):
        cls.issuer = cls.enterClassContext(running_provider(CLIENT_ID, CLIENT_SECRET))
        cls.enterClassContext(
            override_settings(
                SUPPORTPIN_OIDC_ISSUER=cls.issuer,
                SUPPORTPIN_OIDC_CLIENT_ID=CLIENT_ID,
                SUPPORTPIN_OIDC_CLIENT_SECRET=CLIENT_SECRET,
                SUPPORTPIN_OIDC_NAME="Keycloak",
                SUPPORTPIN_OIDC_MFA=["otp", "hwk", "urn:example:loa:mfa"],
            )
        )
        super().setUpClass()

    def at_provider(self, username: str, **claims) -> None:
        """Sign `username` in at the identity provider, as of our clock."""
        who = {"sub": f"sub-{username}", "preferred_username": username, **claims}
        who.setdefault("now", clock.now().timestamp())
        requests.post(f"{self.issuer}/next", json=who, timeout=5).raise_for_status()

    def start(self, client=None, next_url: str = ""):
        """Press "Sign in with Keycloak"; return the provider's redirect back to us."""
        client = client or self.client
        query = f"?next={next_url}" if next_url else ""
        response = client.get(f"/staff/login/oidc/{query}")
        self.assertEqual(response.status_code, 302, response.content)
        self.assertTrue(response["Location"].startswith(f"{self.issuer}/authorize?"))
        back = requests.get(response["Location"], allow_redirects=False, timeout=5)
        self.assertEqual(back.status_code, 302, back.content)
        return back.headers["Location"]

    def come_back(self, callback: str, client=None):
        return (client or self.client).get(callback)

    def sign_in_via_provider(self, username: str, client=None, **claims):
        self.at_provider(username, **claims)
        return self.come_back(self.start(client), client)

    def sign_in_events(self) -> list[dict]:
        entries = AuditEntry.objects.filter(event=Event.STAFF_SIGNED_IN).order_by("id")
        return [{"actor": e.actor, **e.detail} for e in entries]

    def assertSignedInAs(self, staff: Staff) -> None:
        page = self.page("/support/")
        self.assertContains(page, "Sign out")
        self.assertEqual(page.context["signed_in_staff"], staff)

    def assertSignedOut(self, client=None) -> None:
        response = (client or self.client).get("/support/")
        self.assertEqual(response.status_code, 302)
        self.assertTrue(response["Location"].startswith("/staff/login/"))


class ProviderAssertsMfaTests(OidcTestCase):
    def test_the_sign_in_page_offers_the_provider_next_to_the_password_form(self):
        page = self.page("/staff/login/")

        self.assertContains(page, "Sign in with Keycloak")
        self.assertContains(page, 'href="/staff/login/oidc/"')
        self.assertContains(page, 'name="password"')

    def test_the_button_speaks_german_by_default(self):
        page = self.page("/staff/login/", client=Client())

        self.assertContains(page, "Mit Keycloak anmelden")

    def test_amr_with_a_second_factor_signs_the_staff_member_in(self):
        response = self.sign_in_via_provider("sam", amr=["pwd", "otp"])

        self.assertRedirects(response, "/support/", fetch_redirect_response=False)
        self.assertSignedInAs(self.supporter)
        self.assertEqual(
            self.sign_in_events(), [{"actor": "Sam S.", "staff": "sam", "method": "oidc"}]
        )

    def test_an_acr_that_counts_as_mfa_signs_in_without_our_code(self):
        response = self.sign_in_via_provider("ada", acr="urn:example:loa:mfa")

        self.assertRedirects(response, "/support/", fetch_redirect_response=False)
        self.assertSignedInAs(self.admin)

    def test_it_lands_on_the_page_asked_for_but_never_on_another_site(self):
        self.at_provider("sam", amr=["hwk"])
        response = self.come_back(self.start(next_url="/support/tickets/"))
        self.assertRedirects(response, "/support/tickets/", fetch_redirect_response=False)

        other = self.browser()
        self.at_provider("sam", amr=["hwk"])
        response = self.come_back(self.start(other, next_url="https://evil.example/"), other)
        self.assertRedirects(response, "/support/", fetch_redirect_response=False)

    def test_the_session_ends_like_a_password_session_when_the_account_is_disabled(self):
        self.sign_in_via_provider("sam", amr=["otp"])
        self.page("/support/")

        set_staff_active(staff=self.supporter, active=False, now=clock.now(), by=SYSTEM)

        self.assertSignedOut()


class ProviderWithoutMfaTests(OidcTestCase):
    def setUp(self):
        super().setUp()
        # Sam has set up the authenticator before.
        Staff.objects.filter(pk=self.supporter.pk).update(otp_confirmed_at=START)

    def test_without_mfa_our_code_is_asked_before_the_session_starts(self):
        response = self.sign_in_via_provider("sam", amr=["pwd"])

        self.assertRedirects(response, "/staff/login/code/", fetch_redirect_response=False)
        self.assertSignedOut()
        page = self.page("/staff/login/code/")
        self.assertContains(page, "did not ask for a second factor")

        response = self.client.post("/staff/login/code/", {"otp": self.code_for(self.supporter)})

        self.assertRedirects(response, "/support/", fetch_redirect_response=False)
        self.assertSignedInAs(self.supporter)
        self.assertEqual(self.sign_in_events()[-1]["method"], "oidc+totp")

    def test_a_wrong_code_is_refused_and_counted(self):
        self.sign_in_via_provider("sam")

        response = self.client.post("/staff/login/code/", {"otp": "000000"})

        self.assertContains(response, "This code is not valid", status_code=400)
        self.assertSignedOut()
        self.assertEqual(self.sign_in_events(), [])

    def test_the_code_step_expires_after_five_minutes(self):
        self.sign_in_via_provider("sam")
        self.travel_to(clock.now() + timedelta(minutes=5))

        response = self.client.post("/staff/login/code/", {"otp": self.code_for(self.supporter)})

        self.assertRedirects(response, "/staff/login/", fetch_redirect_response=False)
        self.assertSignedOut()

    def test_the_code_step_ends_when_the_password_changes_or_sessions_end_meanwhile(self):
        self.sign_in_via_provider("sam")
        end_staff_sessions(staff=self.supporter, now=clock.now(), by=SYSTEM)

        response = self.client.post("/staff/login/code/", {"otp": self.code_for(self.supporter)})

        self.assertRedirects(response, "/staff/login/", fetch_redirect_response=False)
        self.assertSignedOut()

    def test_a_staff_member_without_an_authenticator_sets_one_up_first(self):
        response = self.sign_in_via_provider("olga")

        self.assertRedirects(response, "/staff/enrol/", fetch_redirect_response=False)
        response = self.client.post("/staff/enrol/", {"otp": self.code_for(self.other_supporter)})
        self.assertRedirects(response, "/support/", fetch_redirect_response=False)
        self.assertEqual(
            self.sign_in_events()[-1], {"actor": "Olga O.", "staff": "olga", "method": "oidc+totp"}
        )

    def test_without_a_pending_sign_in_the_code_page_sends_to_sign_in(self):
        response = self.client.post("/staff/login/code/", {"otp": "123456"})

        self.assertRedirects(response, "/staff/login/", fetch_redirect_response=False)


class RefusedSignInTests(OidcTestCase):
    def assertRefused(self, response, status: int, message: str) -> None:
        self.assertContains(response, message, status_code=status)
        self.assertContains(response, 'role="alert"', status_code=status)
        self.assertCleanPage(response)
        self.assertSignedOut()
        self.assertEqual(self.sign_in_events(), [])

    def test_a_wrong_state_is_refused(self):
        self.at_provider("sam", amr=["otp"])
        callback = self.start()
        parts = urlsplit(callback)
        code = parse_qs(parts.query)["code"][0]

        response = self.client.get(f"{parts.path}?code={code}&state=forged-state")

        self.assertRefused(response, 400, "Signing in with your identity provider failed")

    def test_a_callback_in_another_browser_than_the_one_that_started_is_refused(self):
        self.at_provider("sam", amr=["otp"])
        callback = self.start()

        response = self.come_back(callback, self.browser())

        self.assertEqual(response.status_code, 400)
        self.assertSignedOut()

    def test_a_replayed_code_is_refused(self):
        self.at_provider("sam", amr=["otp"])
        callback = self.start()
        # The replaying browser holds the same state (and PKCE verifier): only the code's
        # second use can stop it.
        replayer = self.browser()
        stored = replayer.session
        for key, value in self.client.session.items():
            if key.startswith("_state_"):
                stored[key] = value
        stored.save()
        replayer.cookies["sessionid"] = stored.session_key
        self.assertRedirects(self.come_back(callback), "/support/", fetch_redirect_response=False)

        response = self.come_back(callback, replayer)

        self.assertContains(
            response, "Signing in with your identity provider failed", status_code=400
        )
        self.assertSignedOut(replayer)
        self.assertEqual(len(self.sign_in_events()), 1)

    def test_an_expired_id_token_is_refused(self):
        response = self.sign_in_via_provider("sam", amr=["otp"], expired=True)

        self.assertRefused(response, 400, "Signing in with your identity provider failed")

    def test_an_id_token_signed_with_another_key_is_refused(self):
        response = self.sign_in_via_provider("sam", amr=["otp"], forged=True)

        self.assertRefused(response, 400, "Signing in with your identity provider failed")

    def test_an_unknown_user_is_refused_the_provider_creates_no_account(self):
        response = self.sign_in_via_provider("mallory", amr=["otp"])

        self.assertRefused(response, 403, "no active staff account of that name")
        self.assertFalse(Staff.objects.filter(username="mallory").exists())

    def test_a_disabled_staff_member_is_refused(self):
        set_staff_active(staff=self.supporter, active=False, now=clock.now(), by=SYSTEM)

        response = self.sign_in_via_provider("sam", amr=["otp"])

        self.assertRefused(response, 403, "no active staff account of that name")

    @override_settings(SUPPORTPIN_SIGN_IN_RATE="2/5m")
    def test_refused_sign_ins_are_throttled_like_wrong_passwords(self):
        for _ in range(2):
            self.sign_in_via_provider("sam-typo", amr=["otp"])

        response = self.sign_in_via_provider("sam", amr=["otp"])

        self.assertRefused(response, 429, "Too many failed sign-ins")

    def test_an_unreachable_provider_is_a_clear_error_not_a_crash(self):
        with override_settings(SUPPORTPIN_OIDC_ISSUER="http://127.0.0.1:9"):
            response = self.client.get("/staff/login/oidc/")

        self.assertContains(response, "cannot be reached", status_code=503)


@override_settings(SUPPORTPIN_OIDC_ONLY=True)
class OidcOnlyTests(OidcTestCase):
    def test_the_sign_in_page_has_no_password_form(self):
        page = self.page("/staff/login/")

        self.assertContains(page, "Sign in with Keycloak")
        self.assertNotContains(page, 'name="password"')

    def test_a_posted_password_is_refused(self):
        response = self.client.post(
            "/staff/login/",
            {"username": "sam", "password": PASSWORD, "otp": self.code_for(self.supporter)},
        )

        self.assertEqual(response.status_code, 403)
        self.assertSignedOut()

    def test_the_api_refuses_a_staff_password(self):
        response = self.post(
            "/auth/token",
            {"username": "sam", "password": PASSWORD, "otp": self.code_for(self.supporter)},
        )

        self.assertProblem(response, 403, "staff_passwords_off")

    def test_customers_still_sign_in_with_their_password(self):
        response = self.post("/auth/token", {"username": "C-1001", "password": PASSWORD})

        self.assertEqual(response.status_code, 201, response.content)


class WithoutProviderTests(WebTestCase):
    def test_a_password_sign_in_is_audited_with_its_method(self):
        self.sign_in_staff(self.admin)

        entry = AuditEntry.objects.get(event=Event.STAFF_SIGNED_IN)
        self.assertEqual((entry.actor_kind, entry.actor), ("admin", "Ada A."))
        self.assertEqual(entry.detail, {"staff": "ada", "method": "password+totp"})

    def test_the_sign_in_page_offers_no_provider_and_its_paths_are_not_found(self):
        page = self.page("/staff/login/")

        self.assertNotContains(page, "/staff/login/oidc/")
        self.assertEqual(self.client.get("/staff/login/oidc/").status_code, 404)
        self.assertEqual(self.client.get("/staff/login/oidc/callback/").status_code, 404)
