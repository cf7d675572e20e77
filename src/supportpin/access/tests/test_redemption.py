from datetime import datetime, timedelta

from testsupport import START, SupportPinTestCase, personal_markers, queued_emails


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


class RedemptionTests(SupportPinTestCase):
    def setUp(self):
        super().setUp()
        self.sam = self.token_for(self.supporter)

    def emails_to(self, address: str) -> list[dict]:
        return queued_emails(address)

    def test_it_opens_a_grant_for_customer_number_and_pin(self):
        response = self.redeem(self.current_pin())

        self.assertEqual(response.status_code, 201, response.content)
        grant = response.json()
        self.assertLessEqual(
            {"id", "basis", "customer", "supporter", "started_at", "until"}, grant.keys()
        )
        self.assertIsInstance(grant["id"], int)
        self.assertEqual(grant["basis"], "pin")
        self.assertEqual(grant["customer"], "C-1001")
        self.assertEqual(grant["supporter"], "Sam S.")
        self.assertIsNone(grant.get("ticket"))
        self.assertEqual(at(grant["started_at"]), START)
        self.assertEqual(at(grant["until"]), START + timedelta(minutes=60))

    def test_it_shows_the_supporter_no_personal_data_in_the_grant(self):
        response = self.redeem(self.current_pin())

        self.assertEqual(response.status_code, 201, response.content)
        for marker in personal_markers(self.customer.pk).values():
            self.assertNotIn(marker, response.content.decode())

    def test_it_accepts_the_pin_as_read_aloud_with_spaces(self):
        pin = self.current_pin()

        response = self.redeem(f"{pin[:3]} {pin[3:]}")

        self.assertEqual(response.status_code, 201, response.content)

    def test_it_accepts_the_pin_typed_with_dashes(self):
        pin = self.current_pin()

        response = self.redeem(f"{pin[:3]}-{pin[3:]}")

        self.assertEqual(response.status_code, 201, response.content)

    def test_it_accepts_the_grouped_display_form(self):
        display = self.get("/me/support-pin", self.token_for(self.customer)).json()["pin_display"]

        response = self.redeem(display)

        self.assertEqual(response.status_code, 201, response.content)

    def test_it_refuses_a_pin_with_letters_as_invalid_input(self):
        self.current_pin()

        for pin in ("12a456", "abcdef", "123.456", "12345+", ""):
            with self.subTest(pin=pin):
                response = self.redeem(pin)
                self.assertProblem(response, 422, "invalid")
                self.assertIn("errors", response.json())

    def test_it_refuses_a_body_without_a_pin_as_invalid_input(self):
        response = self.post("/support/pin-redemptions", {"customer": "C-1001"}, self.sam)

        self.assertProblem(response, 422, "invalid")

    def test_it_refuses_the_wrong_pin(self):
        pin = self.current_pin()

        self.assertProblem(self.redeem(self.wrong_pin(pin)), 403, "pin_invalid")
        self.assertProblem(self.get("/support/products/gs-1", self.sam), 404, "not_found")

    def test_it_refuses_the_pin_of_one_customer_for_another(self):
        pin = self.current_pin(self.other_customer)

        self.assertProblem(self.redeem(pin, customer="C-1001"), 403, "pin_invalid")

    def test_it_refuses_redemption_to_customers_and_strangers(self):
        pin = self.current_pin()
        body = {"customer": "C-1001", "pin": pin}

        self.assertProblem(self.post("/support/pin-redemptions", body), 401, "unauthorized")
        customer = self.token_for(self.customer)
        self.assertProblem(self.post("/support/pin-redemptions", body, customer), 403, "forbidden")
        self.assertEqual(self.redeem(pin).status_code, 201)

    def test_it_lets_exactly_one_supporter_redeem_a_pin(self):
        pin = self.current_pin()
        self.assertEqual(self.redeem(pin).status_code, 201)

        response = self.redeem(pin, supporter=self.other_supporter)

        self.assertProblem(response, 403, "pin_invalid")
        olga = self.token_for(self.other_supporter)
        self.assertProblem(self.get("/support/products/gs-1", olga), 404, "not_found")
        self.assertEqual(self.get("/support/grants", olga).json(), [])

    def test_it_gives_the_same_supporter_the_same_grant_again(self):
        pin = self.current_pin()
        first = self.redeem(pin)
        self.travel_to(START + timedelta(minutes=10))

        again = self.redeem(f"{pin[:3]} {pin[3:]}")

        self.assertEqual(again.status_code, 200, again.content)
        self.assertEqual(again.json(), first.json())
        self.assertEqual(len(self.get("/support/grants", self.sam).json()), 1)

    def test_it_opens_every_product_of_that_customer_and_none_of_others(self):
        self.redeem(self.current_pin())

        self.assertEqual(self.get("/support/products/gs-1", self.sam).status_code, 200)
        self.assertEqual(self.get("/support/products/vs-1", self.sam).status_code, 200)
        listed = self.get("/support/customers/C-1001/products", self.sam)
        self.assertEqual(listed.status_code, 200, listed.content)
        self.assertEqual(sorted(p["id"] for p in listed.json()), ["gs-1", "vs-1"])
        self.assertProblem(self.get("/support/products/gs-2", self.sam), 404, "not_found")
        other = self.get("/support/customers/C-2002/products", self.sam)
        self.assertProblem(other, 404, "not_found")

    def test_it_lists_the_grant_for_supporter_and_customer(self):
        grant = self.redeem(self.current_pin()).json()

        self.assertEqual(self.get("/support/grants", self.sam).json(), [grant])
        self.assertEqual(self.get("/me/grants", self.token_for(self.customer)).json(), [grant])
        olga = self.token_for(self.other_supporter)
        self.assertEqual(self.get("/support/grants", olga).json(), [])
        self.assertEqual(self.get("/me/grants", self.token_for(self.other_customer)).json(), [])

    def test_it_ends_access_at_once_when_the_supporter_deactivates_the_pin(self):
        pin = self.current_pin()
        grant = self.redeem(pin).json()
        self.travel_to(START + timedelta(minutes=5))

        response = self.delete(f"/support/grants/{grant['id']}", self.sam)

        self.assertEqual(response.status_code, 204, response.content)
        self.assertProblem(self.get("/support/products/gs-1", self.sam), 404, "not_found")
        listed = self.get("/support/customers/C-1001/products", self.sam)
        self.assertProblem(listed, 404, "not_found")
        self.assertEqual(self.get("/support/grants", self.sam).json(), [])
        self.assertEqual(self.get("/me/grants", self.token_for(self.customer)).json(), [])
        self.assertProblem(self.redeem(pin), 403, "pin_invalid")

    def test_it_shows_the_customer_a_fresh_pin_after_the_supporter_deactivated_it(self):
        pin = self.current_pin()
        grant = self.redeem(pin).json()
        self.delete(f"/support/grants/{grant['id']}", self.sam)
        self.travel_to(START + timedelta(minutes=5))

        shown = self.get("/me/support-pin", self.token_for(self.customer)).json()

        self.assertNotEqual(shown["pin"], pin)
        self.assertEqual(shown["state"], "active")
        self.assertIsNone(shown["redeemed_by"])
        self.assertEqual(at(shown["issued_at"]), START + timedelta(minutes=5))
        self.assertEqual(self.redeem(shown["pin"], supporter=self.other_supporter).status_code, 201)

    def test_it_lets_only_the_holder_deactivate_a_grant(self):
        grant = self.redeem(self.current_pin()).json()
        olga = self.token_for(self.other_supporter)

        self.assertProblem(self.delete(f"/support/grants/{grant['id']}", olga), 404, "not_found")
        self.assertProblem(self.delete("/support/grants/999999", self.sam), 404, "not_found")
        self.assertEqual(self.get("/support/products/gs-1", self.sam).status_code, 200)

    def test_it_answers_not_found_for_a_grant_already_ended(self):
        grant = self.redeem(self.current_pin()).json()
        self.delete(f"/support/grants/{grant['id']}", self.sam)

        response = self.delete(f"/support/grants/{grant['id']}", self.sam)

        self.assertProblem(response, 404, "not_found")

    def test_it_keeps_access_until_the_last_second_before_sixty_minutes(self):
        pin = self.current_pin()
        grant = self.redeem(pin).json()

        self.travel_to(START + timedelta(minutes=59, seconds=59))

        self.assertEqual(self.get("/support/products/gs-1", self.sam).status_code, 200)
        self.assertEqual(self.get("/support/grants", self.sam).json(), [grant])
        self.assertEqual(self.get("/me/grants", self.token_for(self.customer)).json(), [grant])
        self.assertEqual(self.redeem(pin).status_code, 200)

    def test_it_ends_access_when_the_pin_turns_sixty_minutes_old_without_a_worker(self):
        pin = self.current_pin()
        self.redeem(pin)

        self.travel_to(START + timedelta(minutes=60))

        self.assertProblem(self.get("/support/products/gs-1", self.sam), 404, "not_found")
        self.assertProblem(self.get("/support/products/vs-1", self.sam), 404, "not_found")
        listed = self.get("/support/customers/C-1001/products", self.sam)
        self.assertProblem(listed, 404, "not_found")
        self.assertEqual(self.get("/support/grants", self.sam).json(), [])
        self.assertEqual(self.get("/me/grants", self.token_for(self.customer)).json(), [])
        self.assertProblem(self.redeem(pin), 403, "pin_invalid")

    def test_it_redeems_an_unused_pin_at_59_59_for_the_rest_of_its_hour(self):
        pin = self.current_pin()
        self.travel_to(START + timedelta(minutes=59, seconds=59))

        response = self.redeem(pin)

        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(at(response.json()["until"]), START + timedelta(minutes=60))

    def test_it_refuses_an_unused_pin_that_turned_sixty_minutes_old(self):
        pin = self.current_pin()
        self.travel_to(START + timedelta(minutes=60))

        self.assertProblem(self.redeem(pin), 403, "pin_invalid")
        self.assertProblem(self.get("/support/products/gs-1", self.sam), 404, "not_found")

    def test_it_tells_the_customer_by_email_who_redeemed_the_pin(self):
        email = personal_markers(self.customer.pk)["email"]
        self.current_pin()
        self.assertEqual(self.emails_to(email), [])

        self.redeem(self.current_pin())

        mails = self.emails_to(email)
        self.assertEqual(len(mails), 1)
        self.assertEqual(mails[0]["to"], [email])
        self.assertIn("Sam S.", mails[0]["body"])
        self.assertTrue(mails[0]["subject"])

    def test_it_writes_the_email_times_in_the_zone_the_web_ui_shows(self):
        email = personal_markers(self.customer.pk)["email"]

        with self.settings(TIME_ZONE="Europe/Berlin"):
            self.redeem(self.current_pin())

        # START is 09:00 UTC, 10:00 in Berlin in November; the PIN lasts 60 minutes.
        body = self.emails_to(email)[0]["body"]
        self.assertIn("um 10:00 CET", body)
        self.assertIn("bis 11:00 CET", body)
        self.assertNotIn("UTC", body)

    def test_it_sends_no_second_email_when_the_same_supporter_redeems_again(self):
        email = personal_markers(self.customer.pk)["email"]
        pin = self.current_pin()
        self.redeem(pin)

        self.redeem(pin)

        self.assertEqual(len(self.emails_to(email)), 1)

    def test_it_sends_no_email_for_a_wrong_pin(self):
        email = personal_markers(self.customer.pk)["email"]

        self.redeem(self.wrong_pin(self.current_pin()))

        self.assertEqual(self.emails_to(email), [])
