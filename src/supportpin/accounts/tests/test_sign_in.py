from datetime import datetime, timedelta

import pyotp

from supportpin.accounts.models import Customer, Staff
from supportpin.lib import clock
from testsupport import PASSWORD, START, SupportPinTestCase, personal_markers


class SignInTests(SupportPinTestCase):
    def sign_in(self, username: str, password: str = PASSWORD, otp: str | None = None):
        body = {"username": username, "password": password}
        if otp is not None:
            body["otp"] = otp
        return self.post("/auth/token", body)

    def code_for(self, staff: Staff) -> str:
        """The code the staff member's authenticator app shows right now."""
        return pyotp.TOTP(staff.otp_secret).at(clock.now())

    def staff_sign_in(self, staff: Staff, password: str = PASSWORD):
        return self.sign_in(staff.username, password, self.code_for(staff))

    # --- customers ---------------------------------------------------------------------

    def test_it_signs_a_customer_in_by_customer_number(self):
        response = self.sign_in("C-1001")

        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual(body["role"], "customer")
        self.assertEqual(datetime.fromisoformat(body["expires_at"]), START + timedelta(hours=24))
        me = self.get("/me", body["token"])
        self.assertEqual(me.status_code, 200, me.content)
        self.assertEqual(me.json()["number"], "C-1001")

    def test_it_signs_a_customer_in_by_email(self):
        email = personal_markers("C-2002")["email"]

        response = self.sign_in(email.upper())

        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["role"], "customer")
        self.assertEqual(self.get("/me", response.json()["token"]).json()["number"], "C-2002")

    def test_it_answers_a_wrong_password_and_an_unknown_user_identically(self):
        wrong_password = self.sign_in("C-1001", "not the password")
        unknown_user = self.sign_in("C-9999", PASSWORD)
        unknown_email = self.sign_in("nobody@marker.example", PASSWORD)
        staff_wrong_password = self.sign_in("sam", "not the password", "000000")

        for response in (wrong_password, unknown_user, unknown_email, staff_wrong_password):
            self.assertProblem(response, 401, "invalid_credentials")
        self.assertEqual(wrong_password.json(), unknown_user.json())
        self.assertEqual(wrong_password.json(), unknown_email.json())
        self.assertEqual(wrong_password.json(), staff_wrong_password.json())

    def test_it_signs_out_and_the_token_is_dead(self):
        token = self.sign_in("C-1001").json()["token"]
        self.assertEqual(self.get("/me", token).status_code, 200)

        response = self.delete("/auth/token", token)

        self.assertEqual(response.status_code, 204, response.content)
        self.assertProblem(self.get("/me", token), 401, "unauthorized")
        self.assertProblem(self.delete("/auth/token", token), 401, "unauthorized")

    def test_it_signs_out_only_the_token_it_was_called_with(self):
        first = self.sign_in("C-1001").json()["token"]
        second = self.sign_in("C-1001").json()["token"]

        self.assertEqual(self.delete("/auth/token", first).status_code, 204)

        self.assertEqual(self.get("/me", second).status_code, 200)

    def test_it_requires_a_token_to_sign_out(self):
        self.assertProblem(self.delete("/auth/token"), 401, "unauthorized")

    def test_it_stores_passwords_as_argon2_hashes(self):
        self.put(
            "/customers/C-3003",
            {"name": "N", "email": "n@example.com", "password": "fresh password 3003"},
            self.api_key,
        )
        self.put(
            "/staff/neo",
            {"display_name": "Neo N.", "password": "fresh password neo", "role": "supporter"},
            self.api_key,
        )

        hashes = [
            Customer.objects.get(pk="C-1001").password,
            Customer.objects.get(pk="C-3003").password,
            Staff.objects.get(username="sam").password,
            Staff.objects.get(username="neo").password,
        ]
        for stored in hashes:
            self.assertTrue(stored.startswith("argon2"), stored)
        self.assertFalse(any("fresh password" in stored for stored in hashes))

    # --- staff ---------------------------------------------------------------------------

    def test_it_signs_staff_in_with_password_and_current_code(self):
        supporter = self.staff_sign_in(self.supporter)
        admin = self.staff_sign_in(self.admin)

        self.assertEqual(supporter.status_code, 201, supporter.content)
        self.assertEqual(supporter.json()["role"], "supporter")
        self.assertEqual(
            datetime.fromisoformat(supporter.json()["expires_at"]), START + timedelta(hours=12)
        )
        self.assertEqual(self.get("/support/grants", supporter.json()["token"]).status_code, 200)
        self.assertEqual(admin.status_code, 201, admin.content)
        self.assertEqual(admin.json()["role"], "admin")

    def test_it_asks_staff_without_a_code_for_one(self):
        response = self.sign_in("sam", PASSWORD)

        self.assertProblem(response, 401, "otp_required")
        self.assertProblem(self.sign_in("ada", PASSWORD, ""), 401, "otp_required")

    def test_it_refuses_a_wrong_code(self):
        right = self.code_for(self.supporter)
        wrong = str((int(right) + 1) % 10**6).zfill(6)

        self.assertProblem(self.sign_in("sam", PASSWORD, wrong), 401, "invalid_credentials")
        self.assertProblem(self.sign_in("sam", PASSWORD, "abcdef"), 401, "invalid_credentials")

    def test_it_refuses_a_code_of_another_staff_member(self):
        if self.code_for(self.admin) == self.code_for(self.supporter):
            self.skipTest("the two random secrets show the same code right now (1 in a million)")

        response = self.sign_in("sam", PASSWORD, self.code_for(self.admin))

        self.assertProblem(response, 401, "invalid_credentials")

    def test_it_refuses_a_code_from_long_ago(self):
        old = pyotp.TOTP(self.supporter.otp_secret).at(START - timedelta(minutes=10))
        if old == self.code_for(self.supporter):
            self.skipTest("the old and the current code happen to be equal (1 in a million)")

        response = self.sign_in("sam", PASSWORD, old)

        self.assertProblem(response, 401, "invalid_credentials")

    def test_it_accepts_a_code_only_once(self):
        code = self.code_for(self.supporter)
        self.assertEqual(self.sign_in("sam", PASSWORD, code).status_code, 201)

        self.travel_to(START + timedelta(seconds=5))
        replay = self.sign_in("sam", PASSWORD, code)

        self.assertProblem(replay, 401, "invalid_credentials")
        # The authenticator's next code works again.
        self.travel_to(START + timedelta(seconds=30))
        self.assertEqual(self.staff_sign_in(self.supporter).status_code, 201)

    def test_it_expires_a_staff_token_after_twelve_hours(self):
        token = self.staff_sign_in(self.supporter).json()["token"]

        self.travel_to(START + timedelta(hours=11, minutes=59, seconds=59))
        self.assertEqual(self.get("/support/grants", token).status_code, 200)
        self.travel_to(START + timedelta(hours=12))
        self.assertProblem(self.get("/support/grants", token), 401, "unauthorized")

    def test_it_ends_everything_of_a_disabled_staff_member(self):
        token = self.staff_sign_in(self.supporter).json()["token"]
        grant = self.redeem(self.current_pin()).json()
        self.assertEqual(self.get("/support/products/gs-1", token).status_code, 200)

        self.travel_to(START + timedelta(minutes=1))
        disabled = self.put(
            "/staff/sam",
            {"display_name": "Sam S.", "password": PASSWORD, "role": "supporter", "active": False},
            self.api_key,
        )

        self.assertEqual(disabled.status_code, 200, disabled.content)
        self.assertFalse(disabled.json()["active"])
        self.assertProblem(self.get("/support/products/gs-1", token), 401, "unauthorized")
        self.assertProblem(self.staff_sign_in(self.supporter), 401, "invalid_credentials")
        customer_token = self.token_for(self.customer)
        self.assertEqual(self.get("/me/grants", customer_token).json(), [])
        decision = self.get("/decisions?supporter=sam&product=gs-1", self.api_key).json()
        self.assertFalse(decision["allowed"])
        # The customer's "Support" shows a fresh PIN, not the one Sam redeemed.
        pin = self.get("/me/support-pin", customer_token).json()
        self.assertEqual((pin["state"], pin["redeemed_by"]), ("active", None))
        self.assertEqual(grant["supporter"], "Sam S.")

    def test_it_lets_a_disabled_staff_member_in_again_only_after_reactivation(self):
        self.put(
            "/staff/sam",
            {"display_name": "Sam S.", "password": PASSWORD, "role": "supporter", "active": False},
            self.api_key,
        )
        self.assertProblem(self.staff_sign_in(self.supporter), 401, "invalid_credentials")

        self.put(
            "/staff/sam",
            {"display_name": "Sam S.", "password": PASSWORD, "role": "supporter", "active": True},
            self.api_key,
        )

        self.travel_to(START + timedelta(seconds=30))
        self.assertEqual(self.staff_sign_in(self.supporter).status_code, 201)
