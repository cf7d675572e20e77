import re
from datetime import datetime, timedelta
from io import StringIO

import pyotp
from django.core.management import call_command

from supportpin.audit.models import AuditEntry, Event
from supportpin.lib import clock
from testsupport import START, SupportPinTestCase

NEW_CUSTOMER = {
    "name": "Nora Neu",
    "email": "nora@example.com",
    "password": "nora's long password",
    "phone": "+49 30 123",
    "address": {"street": "Hauptstr. 1", "zip": "10115", "city": "Berlin", "country": "DE"},
}
NEW_STAFF = {"display_name": "Neo N.", "password": "neo's long password", "role": "supporter"}


class CustomerSyncTests(SupportPinTestCase):
    def sign_in(self, username: str, password: str) -> str:
        response = self.post("/auth/token", {"username": username, "password": password})
        self.assertEqual(response.status_code, 201, response.content)
        return response.json()["token"]

    def test_it_creates_a_customer_then_updates_it(self):
        created = self.put("/customers/C-3003", NEW_CUSTOMER, self.api_key)

        self.assertEqual(created.status_code, 201, created.content)
        self.assertEqual(created.json()["number"], "C-3003")
        token = self.sign_in("C-3003", NEW_CUSTOMER["password"])
        self.assertEqual(
            self.get("/me", token).json(),
            {
                "number": "C-3003",
                "name": "Nora Neu",
                "email": "nora@example.com",
                "phone": "+49 30 123",
                "address": NEW_CUSTOMER["address"],
                "language": "de",
            },
        )

        address = {"street": "Ringstr. 9", "zip": "80331", "city": "München", "country": "DE"}
        changed = NEW_CUSTOMER | {"name": "Nora Neu-Alt", "address": address}
        updated = self.put("/customers/C-3003", changed, self.api_key)

        self.assertEqual(updated.status_code, 200, updated.content)
        me = self.get("/me", token).json()
        self.assertEqual((me["name"], me["address"]), ("Nora Neu-Alt", address))

    def test_it_keeps_the_password_when_an_update_sends_none(self):
        self.put("/customers/C-3003", NEW_CUSTOMER, self.api_key)
        without_password = {k: v for k, v in NEW_CUSTOMER.items() if k != "password"}

        self.assertEqual(
            self.put("/customers/C-3003", without_password, self.api_key).status_code, 200
        )

        self.sign_in("C-3003", NEW_CUSTOMER["password"])

    def test_it_changes_the_password_when_an_update_sends_one(self):
        self.put("/customers/C-3003", NEW_CUSTOMER, self.api_key)

        self.put("/customers/C-3003", NEW_CUSTOMER | {"password": "a new password"}, self.api_key)

        old = self.post("/auth/token", {"username": "C-3003", "password": NEW_CUSTOMER["password"]})
        self.assertProblem(old, 401, "invalid_credentials")
        self.sign_in("C-3003", "a new password")

    def test_it_lets_only_the_integration_sync_customers(self):
        for token in (self.token_for(self.admin), self.token_for(self.supporter)):
            self.assertProblem(self.put("/customers/C-3003", NEW_CUSTOMER, token), 403, "forbidden")
        self.assertProblem(self.put("/customers/C-3003", NEW_CUSTOMER), 401, "unauthorized")
        self.assertProblem(
            self.put("/customers/C-3003", NEW_CUSTOMER, "spk_bogus"), 401, "unauthorized"
        )
        # Nothing was created on the way.
        sign_in = {"username": "C-3003", "password": NEW_CUSTOMER["password"]}
        self.assertProblem(self.post("/auth/token", sign_in), 401, "invalid_credentials")


class ProductSyncTests(SupportPinTestCase):
    def test_it_creates_a_product_then_updates_it(self):
        body = {"customer": "C-1001", "type": "webspace", "name": "Homepage"}

        created = self.put("/products/ws-7", body, self.api_key)

        self.assertEqual(created.status_code, 201, created.content)
        self.assertEqual(
            created.json(),
            {
                "id": "ws-7",
                "customer": "C-1001",
                "type": "webspace",
                "name": "Homepage",
                "status": "active",
                "details": {},
            },
        )
        changed = body | {"name": "Shop", "status": "suspended", "details": {"php": "8.3"}}
        updated = self.put("/products/ws-7", changed, self.api_key)

        self.assertEqual(updated.status_code, 200, updated.content)
        mine = {p["id"]: p for p in self.get("/me/products", self.token_for(self.customer)).json()}
        self.assertEqual(
            (mine["ws-7"]["name"], mine["ws-7"]["status"], mine["ws-7"]["details"]),
            ("Shop", "suspended", {"php": "8.3"}),
        )

    def test_it_refuses_a_product_of_an_unknown_customer(self):
        body = {"customer": "C-9999", "type": "webspace", "name": "Homepage"}

        response = self.put("/products/ws-7", body, self.api_key)

        self.assertProblem(response, 422, "invalid")
        self.assertIsInstance(response.json()["errors"], list)
        self.assertEqual(
            self.put("/products/ws-7", body | {"customer": "C-1001"}, self.api_key).status_code, 201
        )

    def test_it_lets_only_the_integration_sync_products(self):
        body = {"customer": "C-1001", "type": "webspace", "name": "Homepage"}
        self.assertProblem(
            self.put("/products/ws-7", body, self.token_for(self.admin)), 403, "forbidden"
        )
        self.assertProblem(self.put("/products/ws-7", body), 401, "unauthorized")


class StaffSyncTests(SupportPinTestCase):
    def test_it_creates_staff_with_a_totp_secret_shown_once(self):
        created = self.put("/staff/neo", NEW_STAFF, self.api_key)

        self.assertEqual(created.status_code, 201, created.content)
        body = created.json()
        self.assertEqual((body["username"], body["role"]), ("neo", "supporter"))
        secret = body["otp_secret"]
        self.assertRegex(secret, r"^[A-Z2-7]{16,}=*$")
        code = pyotp.TOTP(secret).at(clock.now())
        sign_in = self.post(
            "/auth/token", {"username": "neo", "password": NEW_STAFF["password"], "otp": code}
        )
        self.assertEqual(sign_in.status_code, 201, sign_in.content)
        self.assertEqual(sign_in.json()["role"], "supporter")

        updated = self.put("/staff/neo", NEW_STAFF | {"display_name": "Neo Nord"}, self.api_key)

        self.assertEqual(updated.status_code, 200, updated.content)
        self.assertIsNone(updated.json().get("otp_secret"))
        self.assertEqual(updated.json()["display_name"], "Neo Nord")
        self.assertNotIn(secret, updated.content.decode())

    def test_it_lets_admins_manage_staff_with_their_own_token(self):
        token = self.token_for(self.admin)

        created = self.put("/staff/neo", NEW_STAFF | {"role": "admin"}, token)
        updated = self.put("/staff/neo", NEW_STAFF, token)
        unlocked = self.post("/staff/neo/unlock", token=token)

        self.assertEqual(created.status_code, 201, created.content)
        self.assertEqual(created.json()["role"], "admin")
        self.assertEqual(updated.status_code, 200, updated.content)
        self.assertEqual(updated.json()["role"], "supporter")
        self.assertEqual(unlocked.status_code, 200, unlocked.content)

    def test_it_refuses_the_staff_endpoints_to_supporters_customers_and_strangers(self):
        for token in (self.token_for(self.supporter), self.token_for(self.customer)):
            self.assertProblem(self.put("/staff/neo", NEW_STAFF, token), 403, "forbidden")
            self.assertProblem(self.post("/staff/sam/unlock", token=token), 403, "forbidden")
        self.assertProblem(self.put("/staff/neo", NEW_STAFF), 401, "unauthorized")
        self.assertProblem(self.post("/staff/sam/unlock"), 401, "unauthorized")
        # Nobody was created on the way.
        self.assertProblem(self.post("/staff/neo/unlock", token=self.api_key), 404, "not_found")

    def test_it_refuses_to_let_a_supporter_promote_themselves(self):
        token = self.token_for(self.supporter)

        response = self.put("/staff/sam", NEW_STAFF | {"role": "admin"}, token)

        self.assertProblem(response, 403, "forbidden")
        self.assertEqual(self.get("/support/grants", token).status_code, 200)

    def test_it_answers_unlock_of_an_unknown_username_with_404(self):
        self.assertProblem(self.post("/staff/ghost/unlock", token=self.api_key), 404, "not_found")
        self.assertProblem(
            self.post("/staff/ghost/unlock", token=self.token_for(self.admin)), 404, "not_found"
        )

    def test_it_unlocks_a_blocked_supporter(self):
        pin = self.current_pin()
        for _ in range(10):
            self.redeem(self.wrong_pin(pin))
        self.assertProblem(self.redeem(pin), 429, "too_many_attempts")

        response = self.post("/staff/sam/unlock", token=self.api_key)

        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["username"], "sam")
        # Five of the wrong guesses deactivated the old PIN; the customer reads out a fresh one.
        self.assertEqual(self.redeem(self.current_pin()).status_code, 201)


class DecisionTests(SupportPinTestCase):
    def decision(self, supporter: str = "sam", product: str = "gs-1", token: str | None = None):
        response = self.get(
            f"/decisions?supporter={supporter}&product={product}", token or self.api_key
        )
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()

    def test_it_logs_a_polling_panels_decisions_once_per_grant_product_and_five_minutes(self):
        self.redeem(self.current_pin())
        for moment in ("09:00:00", "09:01:30", "09:04:59", "09:05:00", "09:09:59"):
            self.travel_to(datetime.fromisoformat(f"2026-11-27T{moment}+00:00"))
            self.assertTrue(self.decision()["allowed"], moment)
        self.assertTrue(self.decision(product="vs-1")["allowed"])

        entries = AuditEntry.objects.filter(event=Event.ACCESS_DECIDED).order_by("id")
        logged = [(e.product, e.at.strftime("%H:%M:%S")) for e in entries]
        self.assertEqual(logged, [("gs-1", "09:00:00"), ("gs-1", "09:05:00"), ("vs-1", "09:09:59")])

    def test_it_denies_before_redemption(self):
        self.assertEqual(
            self.decision(), {"allowed": False, "basis": None, "grant_id": None, "until": None}
        )

    def test_it_denies_a_supporter_or_product_that_does_not_exist(self):
        self.redeem(self.current_pin())
        denied = {"allowed": False, "basis": None, "grant_id": None, "until": None}

        self.assertEqual(self.decision(supporter="nobody"), denied)
        self.assertEqual(self.decision(product="no-such-product"), denied)
        # Names match exactly: another spelling of the username is someone else.
        self.assertEqual(self.decision(supporter="SAM"), denied)
        self.assertTrue(self.decision()["allowed"])

    def test_it_allows_after_redemption_until_the_pin_expires(self):
        grant = self.redeem(self.current_pin()).json()

        decision = self.decision()

        self.assertEqual(
            (decision["allowed"], decision["basis"], decision["grant_id"]),
            (True, "pin", grant["id"]),
        )
        self.assertEqual(datetime.fromisoformat(decision["until"]), START + timedelta(minutes=60))
        self.assertTrue(self.decision(product="vs-1")["allowed"])
        self.assertFalse(self.decision(product="gs-2")["allowed"])
        self.assertFalse(self.decision(supporter="olga")["allowed"])
        self.travel_to(START + timedelta(minutes=59, seconds=59))
        self.assertTrue(self.decision()["allowed"])
        self.travel_to(START + timedelta(minutes=60))
        self.assertEqual(
            self.decision(), {"allowed": False, "basis": None, "grant_id": None, "until": None}
        )

    def test_it_denies_once_the_supporter_ends_the_grant(self):
        grant = self.redeem(self.current_pin()).json()
        self.assertEqual(
            self.delete(
                f"/support/grants/{grant['id']}", self.token_for(self.supporter)
            ).status_code,
            204,
        )

        self.assertFalse(self.decision()["allowed"])

    def test_it_denies_unknown_supporters_and_products(self):
        self.redeem(self.current_pin())

        self.assertFalse(self.decision(supporter="ghost")["allowed"])
        self.assertFalse(self.decision(product="nope")["allowed"])
        self.assertFalse(self.decision(supporter="ghost", product="nope")["allowed"])

    def test_it_refuses_a_decision_request_without_its_parameters(self):
        for query in ("", "?supporter=sam", "?product=gs-1", "?supporter=&product=gs-1"):
            with self.subTest(query=query):
                response = self.get(f"/decisions{query}", self.api_key)
                self.assertProblem(response, 422, "invalid")
                self.assertIsInstance(response.json()["errors"], list)

    def test_it_answers_decisions_only_to_the_integration(self):
        self.redeem(self.current_pin())

        for token in (self.token_for(self.supporter), self.token_for(self.customer)):
            response = self.get("/decisions?supporter=sam&product=gs-1", token)
            self.assertProblem(response, 403, "forbidden")
        self.assertProblem(self.get("/decisions?supporter=sam&product=gs-1"), 401, "unauthorized")


class CreateApiKeyTests(SupportPinTestCase):
    def test_it_prints_a_working_key_as_the_last_line(self):
        out = StringIO()

        call_command("createapikey", "panel", stdout=out)

        key = out.getvalue().strip().splitlines()[-1].strip()
        self.assertTrue(re.fullmatch(r"\S{20,}", key), key)
        response = self.get("/decisions?supporter=sam&product=gs-1", key)
        self.assertEqual(response.status_code, 200, response.content)
        created = self.put("/customers/C-3003", NEW_CUSTOMER, key)
        self.assertEqual(created.status_code, 201, created.content)

    def test_it_prints_a_different_key_each_time(self):
        first, second = StringIO(), StringIO()

        call_command("createapikey", "panel", stdout=first)
        call_command("createapikey", "panel", stdout=second)

        self.assertNotEqual(
            first.getvalue().strip().splitlines()[-1], second.getvalue().strip().splitlines()[-1]
        )


class TimeFormatTests(SupportPinTestCase):
    def test_it_writes_times_as_rfc3339_with_a_numeric_offset(self):
        body = self.get("/me/support-pin", self.token_for(self.customer)).json()

        self.assertEqual(body["issued_at"], "2026-11-27T09:00:00+00:00")
        self.assertEqual(body["expires_at"], "2026-11-27T10:00:00+00:00")
