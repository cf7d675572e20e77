from datetime import timedelta
from io import StringIO
from urllib.parse import urlsplit

from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from supportpin.audit.models import AuditEntry, Event
from testsupport import START, SupportPinTestCase


class SignInLinkCommandTests(SupportPinTestCase):
    def link(self, *args: str) -> str:
        out = StringIO()
        call_command("signinlink", *args, stdout=out)
        return out.getvalue().strip().splitlines()[-1]

    def test_it_prints_a_link_that_signs_the_customer_in_once(self):
        url = self.link("C-1001", "--base-url", "http://127.0.0.1:9000")

        parts = urlsplit(url)
        self.assertEqual((parts.scheme, parts.netloc), ("http", "127.0.0.1:9000"))
        browser = Client()
        self.assertRedirects(browser.get(parts.path), "/portal/", fetch_redirect_response=False)
        self.assertEqual(browser.get("/portal/").status_code, 200)
        second = Client()
        self.assertEqual(second.get(parts.path).status_code, 400)
        self.assertEqual(second.get("/portal/").status_code, 302)

    def test_it_prints_a_link_that_lapses_after_60_seconds(self):
        path = urlsplit(self.link("C-1001", "--base-url", "http://x.example")).path

        self.travel_to(START + timedelta(seconds=60))

        self.assertEqual(Client().get(path).status_code, 400)

    @override_settings(SUPPORTPIN_PUBLIC_URL="https://support.example.com/")
    def test_it_uses_the_public_url_and_writes_the_audit_log(self):
        # The default is read when the command builds its parser, inside the override.
        url = self.link("C-1001")

        self.assertRegex(url, r"^https://support\.example\.com/login/link/[^/]+/$")
        entry = AuditEntry.objects.filter(event=Event.SIGN_IN_LINK_CREATED).get()
        self.assertEqual((entry.customer, entry.actor), ("C-1001", "supportpin signinlink"))

    def test_it_refuses_an_unknown_customer_and_a_foreign_next(self):
        with self.assertRaisesMessage(CommandError, "No customer"):
            self.link("C-9999", "--base-url", "http://x.example")
        with self.assertRaisesMessage(CommandError, "path of this app"):
            self.link("C-1001", "--base-url", "http://x.example", "--next", "//evil.example/")
        self.assertFalse(AuditEntry.objects.filter(event=Event.SIGN_IN_LINK_CREATED).exists())

    @override_settings(SUPPORTPIN_PUBLIC_URL="")
    def test_it_asks_for_an_address_when_none_is_set(self):
        with self.assertRaisesMessage(CommandError, "SUPPORTPIN_PUBLIC_URL"):
            self.link("C-1001")
