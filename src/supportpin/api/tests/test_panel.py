from testsupport import SupportPinTestCase


class PanelSupportPinTests(SupportPinTestCase):
    def test_it_shows_the_pin_the_customer_sees(self):
        response = self.get("/customers/C-1001/support-pin", self.api_key)

        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["pin"], self.current_pin())
        self.assertEqual(response.json()["state"], "active")

    def test_it_issues_a_pin_the_customer_then_sees(self):
        pin = self.get("/customers/C-1001/support-pin", self.api_key).json()["pin"]

        self.assertEqual(self.current_pin(), pin)

    def test_it_shows_who_redeemed_the_pin(self):
        self.redeem(self.current_pin())

        body = self.get("/customers/C-1001/support-pin", self.api_key).json()

        self.assertEqual((body["state"], body["redeemed_by"]), ("redeemed", "Sam S."))

    def test_it_rotates_the_pin_and_ends_the_grant(self):
        old = self.current_pin()
        self.assertEqual(self.redeem(old).status_code, 201)

        response = self.post("/customers/C-1001/support-pin/rotate", None, self.api_key)

        self.assertEqual(response.status_code, 200, response.content)
        new = response.json()["pin"]
        self.assertNotEqual(new, old)
        self.assertEqual(self.current_pin(), new)
        supporter = self.token_for(self.supporter)
        self.assertEqual(self.get("/support/products/gs-1", supporter).status_code, 404)
        self.assertEqual(self.get("/me/grants", self.token_for(self.customer)).json(), [])

    def test_it_writes_the_same_audit_as_the_customer(self):
        self.post("/customers/C-1001/support-pin/rotate", None, self.api_key)

        log = self.get("/me/access-log", self.token_for(self.customer)).json()

        self.assertEqual(log[0]["event"], "pin_issued")
        self.assertEqual((log[0]["actor_role"], log[0]["actor"]), ("customer", "C-1001"))

    def test_it_answers_an_unknown_customer_with_404(self):
        for method, path in (
            ("GET", "/customers/C-9999/support-pin"),
            ("POST", "/customers/C-9999/support-pin/rotate"),
            ("POST", "/customers/c-9999/support-pin/rotate"),
        ):
            with self.subTest(method=method, path=path):
                response = self.call(method, path, token=self.api_key)
                self.assertProblem(response, 404, "not_found")

    def test_it_requires_the_integration_key(self):
        customer_token = self.token_for(self.customer)
        admin_token = self.token_for(self.admin)
        for method, path in (
            ("GET", "/customers/C-1001/support-pin"),
            ("POST", "/customers/C-1001/support-pin/rotate"),
        ):
            with self.subTest(method=method, path=path):
                self.assertProblem(self.call(method, path), 401, "unauthorized")
                for token in (customer_token, admin_token):
                    response = self.call(method, path, token=token)
                    self.assertProblem(response, 403, "forbidden")
