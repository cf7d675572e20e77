from datetime import datetime, timedelta

from django.test import override_settings

from supportpin.access.models import SupportPin
from testsupport import START, SupportPinTestCase


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


class CustomerPinTests(SupportPinTestCase):
    def setUp(self):
        super().setUp()
        self.me = self.token_for(self.customer)
        self.sam = self.token_for(self.supporter)

    def support_pin(self) -> dict:
        response = self.get("/me/support-pin", self.me)
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()

    def test_it_issues_a_pin_only_when_the_customer_opens_support(self):
        self.assertFalse(SupportPin.objects.filter(customer=self.customer).exists())

        shown = self.support_pin()

        self.assertEqual(SupportPin.objects.filter(customer=self.customer).count(), 1)
        self.assertRegex(shown["pin"], r"^[0-9]{6}$")
        self.assertEqual(at(shown["issued_at"]), START)
        self.assertEqual(at(shown["expires_at"]), START + timedelta(minutes=60))
        self.assertEqual(shown["state"], "active")
        self.assertIsNone(shown["redeemed_by"])

    def test_it_records_the_issue_in_the_customers_access_log(self):
        self.support_pin()

        events = [e["event"] for e in self.get("/me/access-log", self.me).json()]

        self.assertIn("pin_issued", events)

    def test_it_groups_the_pin_for_reading_aloud(self):
        shown = self.support_pin()

        self.assertEqual(shown["pin_display"], f"{shown['pin'][:3]} {shown['pin'][3:]}")

    def test_it_shows_the_same_pin_on_every_look_while_it_is_usable(self):
        first = self.support_pin()
        self.travel_to(START + timedelta(minutes=59, seconds=59))

        again = self.support_pin()

        self.assertEqual(again, first)
        self.assertEqual(SupportPin.objects.filter(customer=self.customer).count(), 1)

    def test_it_shows_a_fresh_pin_once_the_old_one_turned_sixty_minutes_old(self):
        first = self.support_pin()
        self.travel_to(START + timedelta(minutes=60))

        fresh = self.support_pin()

        self.assertNotEqual(fresh["pin"], first["pin"])
        self.assertEqual(at(fresh["issued_at"]), START + timedelta(minutes=60))
        self.assertEqual(at(fresh["expires_at"]), START + timedelta(minutes=120))
        self.assertProblem(self.redeem(first["pin"]), 403, "pin_invalid")
        self.assertEqual(self.redeem(fresh["pin"]).status_code, 201)

    def test_it_gives_each_customer_their_own_pin(self):
        mine = self.support_pin()["pin"]
        theirs = self.current_pin(self.other_customer)

        self.assertProblem(self.redeem(theirs, customer="C-1001"), 403, "pin_invalid")
        self.assertEqual(self.redeem(mine, customer="C-1001").status_code, 201)
        self.assertEqual(self.redeem(theirs, customer="C-2002").status_code, 201)

    def test_it_shows_who_redeemed_the_pin(self):
        pin = self.support_pin()["pin"]

        self.redeem(pin)

        shown = self.support_pin()
        self.assertEqual(shown["pin"], pin)
        self.assertEqual(shown["state"], "redeemed")
        self.assertEqual(shown["redeemed_by"], "Sam S.")

    def test_it_keeps_the_pin_page_to_customers(self):
        self.assertProblem(self.get("/me/support-pin"), 401, "unauthorized")
        self.assertProblem(self.get("/me/support-pin", self.sam), 403, "forbidden")
        self.assertProblem(self.post("/me/support-pin/rotate", {}, self.sam), 403, "forbidden")
        self.assertProblem(self.get("/me/grants", self.sam), 403, "forbidden")

    def test_it_replaces_the_pin_on_rotate(self):
        old = self.support_pin()
        self.travel_to(START + timedelta(minutes=10))

        response = self.post("/me/support-pin/rotate", {}, self.me)

        self.assertEqual(response.status_code, 200, response.content)
        new = response.json()
        self.assertNotEqual(new["pin"], old["pin"])
        self.assertEqual(new["state"], "active")
        self.assertEqual(at(new["issued_at"]), START + timedelta(minutes=10))
        self.assertEqual(at(new["expires_at"]), START + timedelta(minutes=70))
        self.assertEqual(self.support_pin(), new)

    def test_it_kills_the_old_pin_on_rotate(self):
        old = self.support_pin()["pin"]

        new = self.post("/me/support-pin/rotate", {}, self.me).json()["pin"]

        self.assertProblem(self.redeem(old), 403, "pin_invalid")
        self.assertEqual(self.redeem(new).status_code, 201)

    def test_it_ends_the_grant_of_the_old_pin_on_rotate(self):
        grant = self.redeem(self.support_pin()["pin"]).json()

        self.post("/me/support-pin/rotate", {}, self.me)

        self.assertProblem(self.get("/support/products/gs-1", self.sam), 404, "not_found")
        self.assertEqual(self.get("/support/grants", self.sam).json(), [])
        self.assertEqual(self.get("/me/grants", self.me).json(), [])
        deleted = self.delete(f"/support/grants/{grant['id']}", self.sam)
        self.assertProblem(deleted, 404, "not_found")

    def test_it_lists_the_active_grants_on_my_account(self):
        self.assertEqual(self.get("/me/grants", self.me).json(), [])
        grant = self.redeem(self.support_pin()["pin"]).json()

        listed = self.get("/me/grants", self.me)

        self.assertEqual(listed.status_code, 200, listed.content)
        self.assertEqual(listed.json(), [grant])
        self.assertEqual(listed.json()[0]["supporter"], "Sam S.")
        self.assertEqual(self.get("/me/grants", self.token_for(self.other_customer)).json(), [])

    def test_it_ends_a_supporters_access_when_the_customer_revokes_the_grant(self):
        pin = self.support_pin()["pin"]
        grant = self.redeem(pin).json()
        self.travel_to(START + timedelta(minutes=5))

        response = self.delete(f"/me/grants/{grant['id']}", self.me)

        self.assertEqual(response.status_code, 204, response.content)
        self.assertEqual(response.content, b"")
        self.assertProblem(self.get("/support/products/gs-1", self.sam), 404, "not_found")
        self.assertEqual(self.get("/support/grants", self.sam).json(), [])
        self.assertEqual(self.get("/me/grants", self.me).json(), [])
        self.assertProblem(self.redeem(pin), 403, "pin_invalid")

    def test_it_shows_a_fresh_pin_after_the_customer_revoked_the_grant(self):
        pin = self.support_pin()["pin"]
        grant = self.redeem(pin).json()
        self.delete(f"/me/grants/{grant['id']}", self.me)

        fresh = self.support_pin()

        self.assertNotEqual(fresh["pin"], pin)
        self.assertEqual(fresh["state"], "active")
        self.assertIsNone(fresh["redeemed_by"])
        self.assertEqual(self.redeem(fresh["pin"]).status_code, 201)

    def test_it_answers_not_found_for_someone_elses_or_an_unknown_grant(self):
        grant = self.redeem(self.support_pin()["pin"]).json()
        other = self.token_for(self.other_customer)

        self.assertProblem(self.delete(f"/me/grants/{grant['id']}", other), 404, "not_found")
        self.assertProblem(self.delete("/me/grants/999999", self.me), 404, "not_found")
        self.assertEqual(self.get("/support/products/gs-1", self.sam).status_code, 200)

    def test_it_answers_not_found_for_a_grant_already_revoked(self):
        grant = self.redeem(self.support_pin()["pin"]).json()
        self.delete(f"/me/grants/{grant['id']}", self.me)

        self.assertProblem(self.delete(f"/me/grants/{grant['id']}", self.me), 404, "not_found")

    @override_settings(SUPPORTPIN_PIN_LENGTH=8)
    def test_it_issues_pins_of_the_configured_length(self):
        shown = self.support_pin()

        self.assertRegex(shown["pin"], r"^[0-9]{8}$")
        self.assertEqual(shown["pin_display"].replace(" ", ""), shown["pin"])
        self.assertIn(" ", shown["pin_display"])
        self.assertEqual(self.redeem(shown["pin_display"]).status_code, 201)

    @override_settings(SUPPORTPIN_PIN_LENGTH=4)
    def test_it_issues_four_digit_pins_when_configured(self):
        shown = self.support_pin()

        self.assertRegex(shown["pin"], r"^[0-9]{4}$")
        self.assertEqual(self.redeem(shown["pin"]).status_code, 201)

    @override_settings(SUPPORTPIN_PIN_TTL_MINUTES=15)
    def test_it_honours_the_configured_lifetime(self):
        shown = self.support_pin()
        self.assertEqual(at(shown["expires_at"]), START + timedelta(minutes=15))
        self.redeem(shown["pin"])

        self.travel_to(START + timedelta(minutes=14, seconds=59))
        self.assertEqual(self.get("/support/products/gs-1", self.sam).status_code, 200)
        self.travel_to(START + timedelta(minutes=15))
        self.assertProblem(self.get("/support/products/gs-1", self.sam), 404, "not_found")
        self.assertNotEqual(self.support_pin()["pin"], shown["pin"])

    def test_it_keeps_the_pin_out_of_the_database(self):
        shown = self.support_pin()
        self.redeem(shown["pin"])

        row = SupportPin.objects.filter(customer=self.customer).values().get()

        for column, value in row.items():
            with self.subTest(column=column):
                if isinstance(value, str):
                    self.assertNotIn(shown["pin"], value)
                    self.assertNotIn(shown["pin_display"], value)
                elif isinstance(value, int):
                    self.assertNotEqual(value, int(shown["pin"]))

    def test_it_needs_the_servers_secret_besides_the_database_to_check_a_pin(self):
        pin = self.support_pin()["pin"]

        with override_settings(SECRET_KEY="a-secret-the-database-does-not-hold"):
            refused = self.redeem(pin)

        self.assertProblem(refused, 403, "pin_invalid")
        self.assertEqual(self.redeem(pin).status_code, 201)
