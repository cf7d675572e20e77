import re
from io import StringIO
from urllib.parse import urlsplit

from django.core.management import call_command
from django.test import Client, override_settings

from testsupport import SupportPinTestCase, queued_emails


class DemoCommandTests(SupportPinTestCase):
    def demo(self, *args: str) -> str:
        out = StringIO()
        call_command("demo", *args, stdout=out)
        return out.getvalue()

    def test_it_prints_the_links_at_the_address_the_server_listens_on(self):
        printed = self.demo("--address", "0.0.0.0:9000")

        self.assertIn("Customer portal: http://127.0.0.1:9000/login/", printed)
        self.assertIn("http://127.0.0.1:9000/api/v1/customers/K10001/sign-in-links", printed)
        self.assertNotIn(":8000", printed)

    def test_it_prints_a_sign_in_link_that_signs_k10001_in_once(self):
        printed = self.demo("--address", "localhost:8123")

        url = re.search(r"^http://localhost:8123/login/link/\S+$", printed, re.M)
        assert url is not None, printed
        path = urlsplit(url.group()).path
        browser = Client()
        browser.get(path)
        self.assertContains(browser.get("/portal/"), "gs-1001")
        self.assertEqual(Client().get(path).status_code, 400)

    @override_settings(DEBUG=True)
    def test_it_names_the_totp_command_as_it_runs_from_the_repository_root(self):
        self.assertIn("DEBUG=1 .venv/bin/supportpin totp anna", self.demo())

    def test_it_has_a_customer_who_reads_e_mails_in_english(self):
        printed = self.demo()

        self.assertIn("K10003  (lea@example.org, e-mails in English)", printed)
        self.client.post("/login/password/", {"email": "lea@example.org"})
        self.client.post("/login/password/", {"email": "mia@example.org"})
        subjects = {m["to"][0]: m["subject"] for m in queued_emails()}
        self.assertEqual(subjects["lea@example.org"], "Choose a new Support-PIN password")
        self.assertEqual(subjects["mia@example.org"], "Neues Support-PIN-Passwort wählen")
