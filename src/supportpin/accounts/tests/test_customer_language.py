"""Each customer's e-mails come in their language, with times in the zone the web UI shows."""

from datetime import UTC, datetime

from django.test import override_settings

from supportpin.accounts.models import Customer
from testsupport import SupportPinTestCase, personal_markers, queued_emails

# 14:00 UTC is 15:00 in Berlin in winter (CET) and 16:00 in summer (CEST).
WINTER_AFTERNOON = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
SUMMER_AFTERNOON = datetime(2026, 7, 1, 14, 0, tzinfo=UTC)


class CustomerLanguageTestCase(SupportPinTestCase):
    def put_customer(self, number: str = "C-1001", **fields):
        body = {"name": "Carla C.", "email": "carla@example.com", **fields}
        return self.put(f"/customers/{number}", body, self.api_key)

    def language_of(self, number: str = "C-1001") -> str:
        return self.get("/me", self.token_for(Customer.objects.get(pk=number))).json()["language"]

    def mails_to(self, address: str) -> list[dict]:
        return [mail for mail in queued_emails(address) if mail["to"] == [address]]


class LanguageThroughTheApiTests(CustomerLanguageTestCase):
    def test_it_stores_the_language_the_billing_system_sends(self):
        self.assertEqual(self.put_customer(language="en").status_code, 200)

        self.assertEqual(self.language_of(), "en")

    def test_it_gives_a_new_customer_the_default_language(self):
        self.assertEqual(self.put_customer("C-3003").status_code, 201)

        self.assertEqual(self.language_of("C-3003"), "de")

    @override_settings(LANGUAGE_CODE="en")
    def test_it_takes_the_default_from_language_code(self):
        self.put_customer("C-3003")

        self.assertEqual(self.language_of("C-3003"), "en")

    def test_it_keeps_the_language_when_a_put_leaves_it_out(self):
        self.put_customer(language="en")

        self.put_customer()

        self.assertEqual(self.language_of(), "en")

    def test_it_refuses_a_language_it_has_no_e_mails_in(self):
        for language in ("fr", "", "EN", 1):
            with self.subTest(language):
                response = self.put_customer(language=language)
                self.assertProblem(response, 422, "invalid")
                self.assertIn("language", str(response.json()["errors"]))
        self.assertEqual(self.language_of(), "de")


class CustomerEmailTests(CustomerLanguageTestCase):
    def redeem_at(self, moment: datetime) -> dict:
        self.travel_to(moment)
        self.redeem(self.current_pin())
        (mail,) = self.mails_to(personal_markers("C-1001")["email"])
        return mail

    def keep_address(self, language: str) -> None:
        self.put_customer(email=personal_markers("C-1001")["email"], language=language)

    def test_it_tells_a_german_customer_in_german_and_local_time(self):
        mail = self.redeem_at(WINTER_AFTERNOON)

        self.assertEqual(mail["subject"], "Ein Supporter hat Ihre Support-PIN eingelöst")
        self.assertIn(
            "Sam S. hat um 15:00 CET Ihre Support-PIN eingelöst und kann bis 16:00 CET auf Ihre "
            "Produkte zugreifen.",
            mail["body"],
        )
        self.assertIn("Sie können den Zugriff jederzeit unter „Support“ widerrufen.", mail["body"])

    def test_it_tells_an_english_customer_in_english_and_local_time(self):
        self.keep_address("en")

        mail = self.redeem_at(WINTER_AFTERNOON)

        self.assertEqual(mail["subject"], "A supporter redeemed your Support-PIN")
        self.assertIn(
            "Sam S. redeemed your Support-PIN at 15:00 CET and may access your products until "
            "16:00 CET.",
            mail["body"],
        )
        self.assertNotIn("Support-PIN eingelöst", mail["body"])

    def test_it_shows_summer_time_in_summer(self):
        mail = self.redeem_at(SUMMER_AFTERNOON)

        self.assertIn("um 16:00 CEST", mail["body"])

    @override_settings(TIME_ZONE="UTC")
    def test_it_shows_the_zone_the_operator_set(self):
        mail = self.redeem_at(WINTER_AFTERNOON)

        self.assertIn("um 14:00 UTC", mail["body"])

    def test_it_writes_a_ticket_reply_in_the_customers_language_and_as_typed(self):
        self.keep_address("en")
        customer = self.token_for(self.customer)
        ticket = self.post(
            "/me/tickets", {"subject": "Tom & Jerry <server>", "message": "Help"}, customer
        ).json()
        supporter = self.token_for(self.supporter)
        self.post(f"/support/tickets/{ticket['id']}/claim", {}, supporter)

        self.post(f"/support/tickets/{ticket['id']}/messages", {"body": "Fixed & done."}, supporter)

        (mail,) = self.mails_to(personal_markers("C-1001")["email"])
        self.assertEqual(mail["subject"], f"New reply on ticket #{ticket['id']}")
        self.assertIn("Sam S. replied to your ticket “Tom & Jerry <server>”.", mail["body"])
        self.assertIn("Fixed & done.", mail["body"])

    def test_it_writes_the_password_reset_mail_in_the_customers_language(self):
        address = personal_markers("C-1001")["email"]
        self.client.post("/login/password/", {"email": address})
        self.keep_address("en")
        self.client.post("/login/password/", {"email": address})

        german, english = self.mails_to(address)
        self.assertEqual(german["subject"], "Neues Support-PIN-Passwort wählen")
        self.assertIn("Wählen Sie innerhalb von 60 Minuten ein neues Passwort", german["body"])
        self.assertEqual(english["subject"], "Choose a new Support-PIN password")
        self.assertIn("Choose a new password within 60 minutes", english["body"])
