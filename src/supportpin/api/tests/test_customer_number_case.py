from django.db import IntegrityError, transaction

from supportpin.access.models import PinAttempt
from supportpin.accounts.models import Customer
from supportpin.products.models import Product
from testsupport import PASSWORD, START, SupportPinTestCase

CUSTOMER = {"name": "Nora Neu", "email": "nora@example.com", "phone": "", "address": None}


class CustomerNumberCaseTests(SupportPinTestCase):
    """C-1001 is stored as "C-1001"; every way in also accepts "c-1001"."""

    def setUp(self):
        super().setUp()
        self.sam = self.token_for(self.supporter)

    def test_it_redeems_the_right_pin_under_a_lower_case_number(self):
        response = self.redeem(self.current_pin(), customer="c-1001")

        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["customer"], "C-1001")
        self.assertFalse(PinAttempt.objects.exists())

    def test_it_still_counts_a_wrong_pin_under_a_lower_case_number(self):
        response = self.redeem(self.wrong_pin(self.current_pin()), customer="c-1001")

        self.assertProblem(response, 403, "pin_invalid")
        self.assertEqual(PinAttempt.objects.count(), 1)

    def test_it_lists_the_customers_products_under_any_spelling(self):
        self.redeem(self.current_pin())

        response = self.get("/support/customers/c-1001/products", self.sam)

        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual([p["id"] for p in response.json()], ["gs-1", "vs-1"])

    def test_it_refuses_another_customers_products_under_any_spelling(self):
        self.redeem(self.current_pin())

        response = self.get("/support/customers/c-2002/products", self.sam)

        self.assertProblem(response, 404, "not_found")

    def test_it_updates_the_stored_customer_when_a_put_spells_it_otherwise(self):
        response = self.put("/customers/c-1001", CUSTOMER, self.api_key)

        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["number"], "C-1001")
        self.assertEqual(
            list(Customer.objects.values_list("pk", flat=True).order_by("pk")),
            [
                "C-1001",
                "C-2002",
            ],
        )
        customer_token = self.token_for(Customer.objects.get(pk="C-1001"))
        self.assertEqual(self.get("/me", customer_token).json()["name"], "Nora Neu")

    def test_it_attaches_a_product_to_the_stored_customer_under_any_spelling(self):
        product = {"customer": "c-2002", "type": "vserver", "name": "Box", "status": "active"}

        response = self.put("/products/vs-9", product | {"details": {}}, self.api_key)

        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(Product.objects.get(pk="vs-9").customer_id, "C-2002")

    def test_it_signs_a_customer_in_under_any_spelling(self):
        response = self.post("/auth/token", {"username": "c-1001", "password": PASSWORD})

        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(self.get("/me", response.json()["token"]).json()["number"], "C-1001")

    def test_it_shows_the_panel_the_pin_under_any_spelling(self):
        response = self.get("/customers/c-1001/support-pin", self.api_key)

        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["pin"], self.current_pin())

    def test_it_rotates_the_pin_under_any_spelling(self):
        old = self.current_pin()

        response = self.post("/customers/c-1001/support-pin/rotate", None, self.api_key)

        self.assertEqual(response.status_code, 200, response.content)
        self.assertNotEqual(self.current_pin(), old)

    def test_it_makes_a_sign_in_link_under_any_spelling_for_the_integration_only(self):
        allowed = self.post("/customers/c-1001/sign-in-links", {}, self.api_key)
        denied = self.post("/customers/c-1001/sign-in-links", {}, self.sam)

        self.assertEqual(allowed.status_code, 201, allowed.content)
        self.assertProblem(denied, 403, "forbidden")

    def test_it_never_stores_two_spellings_as_two_customers(self):
        with self.assertRaises(IntegrityError), transaction.atomic():
            Customer.objects.create(number="c-1001", created_at=START, updated_at=START)
