from datetime import timedelta

from django.test import override_settings

from supportpin.audit.models import AuditEntry
from testsupport import START, SupportPinTestCase, personal_markers, queued_emails

ADMIN_EMAIL = "ada@staff.example"


class GuessingTests(SupportPinTestCase):
    def setUp(self):
        super().setUp()
        self.sam = self.token_for(self.supporter)
        self.customer_email = personal_markers(self.customer.pk)["email"]

    def emails_to(self, address: str) -> list[dict]:
        return queued_emails(address)

    def guess_wrong(self, times: int, *, supporter=None, customer=None) -> None:
        """Enter `times` wrong PINs against the customer's PIN as it stands at each attempt."""
        customer = customer or self.customer
        for _ in range(times):
            pin = self.current_pin(customer)
            response = self.redeem(self.wrong_pin(pin), supporter=supporter, customer=customer.pk)
            self.assertIn(response.status_code, (403, 429), response.content)

    def block(self, supporter=None) -> None:
        """Get `supporter` blocked by entering wrong PINs against both customers."""
        self.guess_wrong(5, supporter=supporter)
        self.guess_wrong(5, supporter=supporter, customer=self.other_customer)

    # --- the customer's PIN -------------------------------------------------------------

    def test_it_still_takes_the_right_pin_after_four_wrong_ones(self):
        pin = self.current_pin()
        for _ in range(4):
            self.assertProblem(self.redeem(self.wrong_pin(pin)), 403, "pin_invalid")

        self.assertEqual(self.redeem(pin).status_code, 201)

    def test_it_kills_the_pin_after_five_wrong_attempts(self):
        pin = self.current_pin()
        for _ in range(5):
            self.assertProblem(self.redeem(self.wrong_pin(pin)), 403, "pin_invalid")

        self.assertProblem(self.redeem(pin), 403, "pin_invalid")
        olga_tries = self.redeem(pin, supporter=self.other_supporter)
        self.assertProblem(olga_tries, 403, "pin_invalid")
        self.assertProblem(self.get("/support/products/gs-1", self.sam), 404, "not_found")

    def test_it_counts_wrong_attempts_of_all_supporters_against_one_pin(self):
        pin = self.current_pin()
        for supporter in [self.supporter] * 3 + [self.other_supporter] * 2:
            self.redeem(self.wrong_pin(pin), supporter=supporter)

        self.assertProblem(self.redeem(pin), 403, "pin_invalid")

    def test_it_tells_the_customer_their_pin_was_locked(self):
        pin = self.current_pin()
        for _ in range(4):
            self.redeem(self.wrong_pin(pin))
        self.assertEqual(self.emails_to(self.customer_email), [])

        self.redeem(self.wrong_pin(pin))

        mails = self.emails_to(self.customer_email)
        self.assertEqual(len(mails), 1)
        self.assertEqual(mails[0]["to"], [self.customer_email])
        self.assertIn("gesperrt", mails[0]["subject"])

    def test_it_shows_the_customer_a_new_pin_after_the_lock(self):
        pin = self.current_pin()
        for _ in range(5):
            self.redeem(self.wrong_pin(pin))

        fresh = self.get("/me/support-pin", self.token_for(self.customer)).json()

        self.assertNotEqual(fresh["pin"], pin)
        self.assertEqual(fresh["state"], "active")
        self.assertEqual(self.redeem(fresh["pin"]).status_code, 201)

    def test_it_leaves_other_customers_pins_alone(self):
        theirs = self.current_pin(self.other_customer)

        self.guess_wrong(5)

        self.assertEqual(self.redeem(theirs, customer="C-2002").status_code, 201)

    def test_it_ends_the_grant_of_a_redeemed_pin_after_five_wrong_attempts(self):
        pin = self.current_pin()
        self.redeem(pin)
        self.assertEqual(self.get("/support/products/gs-1", self.sam).status_code, 200)

        for _ in range(5):
            self.redeem(self.wrong_pin(pin), supporter=self.other_supporter)

        self.assertProblem(self.get("/support/products/gs-1", self.sam), 404, "not_found")
        self.assertEqual(self.get("/me/grants", self.token_for(self.customer)).json(), [])
        self.assertNotEqual(self.current_pin(), pin)

    # --- unknown customer numbers -------------------------------------------------------

    def test_it_answers_an_unknown_customer_exactly_like_a_wrong_pin(self):
        pin = self.current_pin()

        wrong = self.redeem(self.wrong_pin(pin))
        unknown = self.redeem(pin, customer="C-9999")

        self.assertProblem(unknown, 403, "pin_invalid")
        self.assertEqual(unknown.status_code, wrong.status_code)
        self.assertEqual(unknown["Content-Type"], wrong["Content-Type"])
        self.assertEqual(unknown.content, wrong.content)

    def test_it_answers_a_customer_without_a_pin_exactly_like_a_wrong_pin(self):
        wrong = self.redeem(self.wrong_pin(self.current_pin()))

        no_pin = self.redeem("123456", customer="C-2002")

        self.assertEqual(no_pin.status_code, wrong.status_code)
        self.assertEqual(no_pin.content, wrong.content)

    def test_it_counts_unknown_customers_towards_the_supporters_limit(self):
        for n in range(10):
            self.redeem("123456", customer=f"C-90{n:02d}")

        self.assertProblem(self.redeem(self.current_pin()), 429, "too_many_attempts")

    # --- the supporter's limit ----------------------------------------------------------

    def test_it_lets_a_supporter_redeem_after_nine_wrong_pins(self):
        self.guess_wrong(5)
        self.guess_wrong(4, customer=self.other_customer)

        self.assertEqual(self.redeem(self.current_pin()).status_code, 201)

    def test_it_blocks_a_supporter_after_ten_wrong_pins_even_for_the_right_one(self):
        self.block()

        response = self.redeem(self.current_pin())

        self.assertProblem(response, 429, "too_many_attempts")
        self.assertProblem(self.get("/support/products/gs-1", self.sam), 404, "not_found")
        self.assertEqual(self.get("/support/grants", self.sam).json(), [])

    def test_it_keeps_the_right_pin_usable_for_others_while_blocked(self):
        self.block()
        pin = self.current_pin()

        self.assertProblem(self.redeem(pin), 429, "too_many_attempts")

        self.assertEqual(self.redeem(pin, supporter=self.other_supporter).status_code, 201)

    def test_it_keeps_the_supporter_blocked_as_time_passes(self):
        self.block()

        self.travel_to(START + timedelta(days=3))

        self.assertProblem(self.redeem(self.current_pin()), 429, "too_many_attempts")

    def test_it_tells_the_admins_when_a_supporter_is_blocked(self):
        self.guess_wrong(5)
        self.guess_wrong(4, customer=self.other_customer)
        self.assertEqual(self.emails_to(ADMIN_EMAIL), [])

        self.guess_wrong(1, customer=self.other_customer)

        mails = self.emails_to(ADMIN_EMAIL)
        self.assertEqual(len(mails), 1)
        self.assertIn("Sam S.", mails[0]["subject"] + mails[0]["body"])
        self.assertNotIn(self.customer_email, mails[0]["to"])

    def test_it_puts_no_personal_data_in_the_admin_email(self):
        self.block()

        mail = self.emails_to(ADMIN_EMAIL)[0]

        text = " ".join([*mail["to"], mail["subject"], mail["body"]])
        for number in (self.customer.pk, self.other_customer.pk):
            for marker in personal_markers(number).values():
                self.assertNotIn(marker, text)

    def test_it_writes_the_block_to_the_audit_log(self):
        self.guess_wrong(9)
        self.assertFalse(AuditEntry.objects.filter(event="supporter_blocked").exists())

        self.guess_wrong(1)

        entry = AuditEntry.objects.get(event="supporter_blocked")
        self.assertEqual(entry.at, START)
        self.assertIn("Sam S.", str(entry.detail))

    def test_it_blocks_only_the_supporter_who_guessed(self):
        self.block()

        response = self.redeem(self.current_pin(), supporter=self.other_supporter)

        self.assertEqual(response.status_code, 201, response.content)

    def test_it_forgets_wrong_pins_older_than_24_hours(self):
        self.guess_wrong(5)
        self.guess_wrong(4, customer=self.other_customer)

        self.travel_to(START + timedelta(hours=24))
        self.guess_wrong(1)

        self.assertEqual(self.redeem(self.current_pin()).status_code, 201)

    def test_it_counts_wrong_pins_from_the_last_24_hours(self):
        self.guess_wrong(5)
        self.guess_wrong(4, customer=self.other_customer)

        self.travel_to(START + timedelta(hours=23, minutes=59, seconds=59))
        self.guess_wrong(1)

        self.assertProblem(self.redeem(self.current_pin()), 429, "too_many_attempts")

    # --- unlock -------------------------------------------------------------------------

    def test_it_lifts_the_block_when_the_integration_unlocks_the_supporter(self):
        self.block()

        response = self.post("/staff/sam/unlock", {}, self.api_key)

        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["username"], "sam")
        self.assertEqual(self.redeem(self.current_pin()).status_code, 201)

    def test_it_lifts_the_block_when_an_admin_unlocks_the_supporter(self):
        self.block()

        response = self.post("/staff/sam/unlock", {}, self.token_for(self.admin))

        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(self.redeem(self.current_pin()).status_code, 201)
        unlocked = AuditEntry.objects.get(event="supporter_unlocked")
        self.assertEqual(unlocked.actor, "Ada A.")

    def test_it_lets_no_supporter_unlock(self):
        self.block()

        olga = self.token_for(self.other_supporter)
        self.assertProblem(self.post("/staff/sam/unlock", {}, olga), 403, "forbidden")
        self.assertProblem(self.post("/staff/sam/unlock", {}, self.sam), 403, "forbidden")
        self.assertProblem(self.post("/staff/sam/unlock", {}), 401, "unauthorized")
        self.assertProblem(self.redeem(self.current_pin()), 429, "too_many_attempts")

    def test_it_answers_not_found_for_unlocking_an_unknown_username(self):
        response = self.post("/staff/nobody/unlock", {}, self.api_key)

        self.assertProblem(response, 404, "not_found")

    def test_it_starts_counting_afresh_after_an_unlock(self):
        self.block()
        self.post("/staff/sam/unlock", {}, self.api_key)
        self.travel_to(START + timedelta(minutes=1))

        self.guess_wrong(9)

        self.assertEqual(self.redeem(self.current_pin()).status_code, 201)

    def test_it_blocks_again_after_ten_new_wrong_pins_following_an_unlock(self):
        self.block()
        self.post("/staff/sam/unlock", {}, self.api_key)
        self.travel_to(START + timedelta(minutes=1))

        self.block()

        self.assertProblem(self.redeem(self.current_pin()), 429, "too_many_attempts")
        self.assertEqual(len(self.emails_to(ADMIN_EMAIL)), 2)

    # --- settings -----------------------------------------------------------------------

    @override_settings(SUPPORTPIN_PIN_MAX_FAILURES=2)
    def test_it_kills_the_pin_after_the_configured_number_of_wrong_attempts(self):
        pin = self.current_pin()
        self.redeem(self.wrong_pin(pin))
        self.assertEqual(self.emails_to(self.customer_email), [])

        self.redeem(self.wrong_pin(pin))

        self.assertProblem(self.redeem(pin), 403, "pin_invalid")
        self.assertEqual(len(self.emails_to(self.customer_email)), 1)

    @override_settings(SUPPORTPIN_PIN_MAX_FAILURES=8)
    def test_it_keeps_the_pin_alive_below_a_raised_limit(self):
        pin = self.current_pin()
        for _ in range(7):
            self.redeem(self.wrong_pin(pin))

        self.assertEqual(self.redeem(pin).status_code, 201)

    @override_settings(SUPPORTPIN_SUPPORTER_MAX_FAILURES=3)
    def test_it_blocks_after_the_configured_number_of_wrong_pins(self):
        self.guess_wrong(2)
        self.assertEqual(
            self.redeem(self.current_pin(self.other_customer), customer="C-2002").status_code, 201
        )

        self.guess_wrong(1)

        self.assertProblem(self.redeem(self.current_pin()), 429, "too_many_attempts")

    @override_settings(SUPPORTPIN_SUPPORTER_MAX_FAILURES=20)
    def test_it_lets_a_supporter_go_on_below_a_raised_limit(self):
        self.guess_wrong(5)
        self.guess_wrong(5, customer=self.other_customer)
        self.guess_wrong(5)

        self.assertEqual(self.redeem(self.current_pin()).status_code, 201)
