"""A customer who forgot their password chooses a new one through a link sent by e-mail."""

import re
import uuid
from datetime import timedelta

import redis
from django.test import override_settings

from supportpin.accounts.models import Customer
from supportpin.accounts.tests.test_throttle import REDIS_URL
from supportpin.audit.models import AuditEntry
from supportpin.notify.models import OutboxMessage
from supportpin.web.tests.browser import WebTestCase
from testsupport import PASSWORD, START, personal_markers, queued_emails

NEW_PASSWORD = "a brand-new long password"
LINK = re.compile(r"https?://\S+/login/password/\S+/")
# Every response masks the CSRF token afresh: 64 letters and digits.
CSRF = re.compile(r"\b[A-Za-z0-9]{64}\b")


def page_without_csrf(response) -> str:
    return CSRF.sub("CSRF", response.content.decode())


class PasswordResetTestCase(WebTestCase):
    def setUp(self):
        super().setUp()
        self.email = personal_markers(self.customer.pk)["email"]

    def ask_for_link(self, email: str, client=None, address: str = "192.0.2.1"):
        return (client or self.client).post(
            "/login/password/", {"email": email}, REMOTE_ADDR=address
        )

    def mails(self) -> list[dict]:
        return queued_emails()

    def link_from_mail(self) -> str:
        (mail,) = self.mails()
        return LINK.search(mail["body"]).group(0)

    def choose(self, link: str, password: str = NEW_PASSWORD, client=None):
        path = link.split("testserver", 1)[1]
        return (client or self.client).post(path, {"password": password, "repeated": password})

    def can_sign_in(self, password: str) -> bool:
        response = self.browser().post("/login/", {"login": self.customer.pk, "password": password})
        return response.status_code == 302


class PasswordResetTests(PasswordResetTestCase):
    def test_it_offers_the_reset_on_the_sign_in_page(self):
        sign_in = self.page("/login/")

        self.assertContains(sign_in, 'href="/login/password/"')
        self.assertContains(sign_in, "Forgot your password?")
        self.page("/login/password/")

    def test_it_mails_a_link_that_sets_a_new_password(self):
        answer = self.ask_for_link(self.email)

        self.assertContains(answer, "Check your e-mail")
        (mail,) = self.mails()
        self.assertEqual(mail["to"], [self.email])
        self.assertIn(self.customer.pk, mail["body"])
        link = self.link_from_mail()
        self.page(link.split("testserver", 1)[1])

        done = self.choose(link)

        self.assertRedirects(done, "/login/", fetch_redirect_response=False)
        self.assertTrue(self.can_sign_in(NEW_PASSWORD))
        self.assertFalse(self.can_sign_in(PASSWORD))

    def test_it_finds_the_address_in_any_case(self):
        self.ask_for_link(self.email.upper())

        self.assertEqual(len(self.mails()), 1)

    def test_it_answers_an_unknown_address_with_the_same_page_and_sends_nothing(self):
        known = self.ask_for_link(self.email)
        OutboxMessage.objects.all().delete()

        unknown = self.ask_for_link("nobody@example.com")

        self.assertEqual(unknown.status_code, known.status_code)
        self.assertEqual(
            page_without_csrf(unknown).replace("nobody@example.com", "ADDRESS"),
            page_without_csrf(known).replace(self.email, "ADDRESS"),
        )
        self.assertEqual(self.mails(), [])

    def test_it_takes_a_link_once(self):
        self.ask_for_link(self.email)
        link = self.link_from_mail()
        self.choose(link)

        again = self.choose(link, "yet another long password")

        self.assertContains(again, "Link not valid", status_code=400)
        self.assertTrue(self.can_sign_in(NEW_PASSWORD))
        self.assertFalse(self.can_sign_in("yet another long password"))

    def test_it_refuses_a_link_one_second_after_its_hour(self):
        self.ask_for_link(self.email)
        link = self.link_from_mail()

        self.travel_to(START + timedelta(hours=1, seconds=1))

        self.assertContains(self.choose(link), "Link not valid", status_code=400)
        self.assertTrue(self.can_sign_in(PASSWORD))

    def test_it_takes_a_link_at_the_end_of_its_hour(self):
        self.ask_for_link(self.email)
        link = self.link_from_mail()

        self.travel_to(START + timedelta(hours=1))

        self.assertRedirects(self.choose(link), "/login/", fetch_redirect_response=False)
        self.assertTrue(self.can_sign_in(NEW_PASSWORD))

    def test_it_refuses_a_forged_or_foreign_link(self):
        self.ask_for_link(self.email)
        link = self.link_from_mail()
        other = link.replace(self.customer.pk, self.other_customer.pk)
        forged = link[:-3] + ("a" if link[-3] != "a" else "b") + link[-2:]

        for bad in (other, forged):
            with self.subTest(bad):
                self.assertContains(self.choose(bad), "Link not valid", status_code=400)
        self.assertTrue(self.can_sign_in(PASSWORD))

    def test_it_refuses_two_different_passwords_and_a_short_one(self):
        self.ask_for_link(self.email)
        path = self.link_from_mail().split("testserver", 1)[1]

        differ = self.client.post(path, {"password": NEW_PASSWORD, "repeated": "something else"})
        short = self.client.post(path, {"password": "short", "repeated": "short"})

        self.assertContains(differ, "The two passwords differ.", status_code=400)
        self.assertEqual(short.status_code, 400)
        self.assertTrue(self.can_sign_in(PASSWORD))

    def test_it_ends_every_session_and_token_of_the_customer(self):
        token = self.token_for(self.customer)
        self.sign_in_customer()
        self.ask_for_link(self.email, client=self.browser())

        self.choose(self.link_from_mail(), client=self.browser())

        self.assertEqual(self.get("/me", token).status_code, 401)
        self.assertRedirects(
            self.client.get("/portal/"), "/login/?next=/portal/", fetch_redirect_response=False
        )

    def test_it_writes_the_reset_to_the_customers_access_log(self):
        self.ask_for_link(self.email)
        self.assertFalse(AuditEntry.objects.filter(event="customer_password_reset").exists())

        self.choose(self.link_from_mail())

        log = self.get("/me/access-log", self.token_for(Customer.objects.get(pk="C-1001")))
        self.assertEqual(log.json()[0]["event"], "customer_password_reset")
        portal = self.browser()
        portal.post("/login/", {"login": self.customer.pk, "password": NEW_PASSWORD})
        self.assertContains(self.page("/portal/access/", client=portal), "Password reset by e-mail")

    def test_it_keeps_the_token_out_of_the_referer(self):
        self.ask_for_link(self.email)

        page = self.page(self.link_from_mail().split("testserver", 1)[1])

        self.assertEqual(page["Referrer-Policy"], "no-referrer")

    def test_it_refuses_a_malformed_address_with_a_message(self):
        response = self.ask_for_link("not an address")

        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "errorlist", status_code=400)
        self.assertEqual(self.mails(), [])

    @override_settings(SUPPORTPIN_PUBLIC_URL="https://support.example.net")
    def test_it_links_to_the_public_address(self):
        self.ask_for_link(self.email)

        (mail,) = self.mails()
        self.assertIn("https://support.example.net/login/password/C-1001/", mail["body"])
        self.assertNotIn("testserver", mail["body"])


@override_settings(SUPPORTPIN_PASSWORD_RESET_RATE="3/1h")
class PasswordResetThrottleTests(PasswordResetTestCase):
    def test_it_stops_mailing_one_address_after_the_limit(self):
        for number in range(3):
            self.ask_for_link(self.email, address=f"192.0.2.{number + 1}")

        blocked = self.ask_for_link(self.email, address="198.51.100.7")

        self.assertEqual(blocked.status_code, 429)
        self.assertContains(blocked, "Too many requests", status_code=429)
        self.assertEqual(len(self.mails()), 3)

    def test_it_stops_one_client_asking_for_many_addresses(self):
        for number in range(3):
            self.ask_for_link(f"someone{number}@example.com")

        blocked = self.ask_for_link(self.email)

        self.assertEqual(blocked.status_code, 429)
        self.assertEqual(self.mails(), [])

    def test_it_counts_unknown_addresses_like_known_ones(self):
        for _ in range(3):
            self.ask_for_link("nobody@example.com", address="203.0.113.9")

        self.assertEqual(self.ask_for_link("nobody@example.com").status_code, 429)

    def test_it_lets_the_address_ask_again_after_the_window(self):
        for number in range(3):
            self.ask_for_link(self.email, address=f"192.0.2.{number + 1}")

        self.travel_to(START + timedelta(hours=1))

        self.assertEqual(self.ask_for_link(self.email, address="198.51.100.7").status_code, 200)
        self.assertEqual(len(self.mails()), 4)


@override_settings(SUPPORTPIN_CUSTOMER_PASSWORDS=False)
class PasswordResetWithoutCustomerPasswordsTests(PasswordResetTestCase):
    def test_it_has_no_reset_pages_and_no_link(self):
        self.assertNotContains(self.page("/login/"), "/login/password/")
        self.page("/login/password/", status=404)
        self.assertEqual(self.ask_for_link(self.email).status_code, 404)
        self.assertEqual(self.mails(), [])

    def test_it_refuses_a_link_made_while_passwords_were_on(self):
        with self.settings(SUPPORTPIN_CUSTOMER_PASSWORDS=True):
            self.ask_for_link(self.email)
        link = self.link_from_mail()

        self.assertEqual(self.choose(link).status_code, 404)
        self.assertTrue(Customer.objects.get(pk=self.customer.pk).password)


@override_settings(SUPPORTPIN_PASSWORD_RESET_RATE="3/1h")
class PasswordResetThrottleWithRedisTests(PasswordResetTestCase):
    """REDIS_URL set: two app processes, each with its own connection to one Redis."""

    def setUp(self):
        super().setUp()
        try:
            redis.Redis.from_url(REDIS_URL).ping()
        except redis.RedisError as error:
            self.skipTest(f"needs Redis at {REDIS_URL} (SUPPORTPIN_TEST_REDIS_URL): {error}")
        self.prefix = f"test-{uuid.uuid4().hex}"  # no count of another test run can leak in
        backend = "django.core.cache.backends.redis.RedisCache"
        shared = {"BACKEND": backend, "LOCATION": REDIS_URL, "KEY_PREFIX": self.prefix}
        settings = override_settings(CACHES={"process-a": shared, "process-b": dict(shared)})
        settings.enable()
        self.addCleanup(settings.disable)

    def test_it_counts_requests_across_processes(self):
        for number, process in enumerate(("process-a", "process-b", "process-a")):
            with override_settings(SUPPORTPIN_SIGN_IN_CACHE=process):
                self.ask_for_link(self.email, address=f"192.0.2.{number + 1}")

        with override_settings(SUPPORTPIN_SIGN_IN_CACHE="process-b"):
            blocked = self.ask_for_link(self.email, address="198.51.100.7")

        self.assertEqual(blocked.status_code, 429)
        self.assertEqual(len(self.mails()), 3)
        counted = redis.Redis.from_url(REDIS_URL).keys(f"{self.prefix}:*password-reset-login:*")
        self.assertEqual(len(counted), 1)
