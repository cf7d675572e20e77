"""What a ticket grant reaches: the named products, or all when none are named; and whose."""

from supportpin.tickets.tests.test_lifecycle import TicketTestCase


class TicketScopeTests(TicketTestCase):
    def test_it_reaches_only_the_products_named_on_the_ticket(self):
        ticket = self.open_ticket(products=["vs-1"])

        self.claim(ticket["id"])

        self.assertEqual(self.product_status(self.supporter, "vs-1"), 200)
        self.assertEqual(self.product_status(self.supporter, "gs-1"), 404)
        listed = self.customer_products(self.supporter)
        self.assertEqual(listed.status_code, 200, listed.content)
        self.assertEqual([p["id"] for p in listed.json()], ["vs-1"])
        named = self.get("/decisions?supporter=sam&product=vs-1", self.api_key).json()
        self.assertEqual((named["allowed"], named["basis"]), (True, "ticket"))
        unnamed = self.get("/decisions?supporter=sam&product=gs-1", self.api_key).json()
        self.assertEqual(unnamed["allowed"], False)

    def test_it_reaches_every_product_of_the_customer_when_the_ticket_names_none(self):
        ticket = self.open_ticket()
        self.assertEqual(ticket["products"], [])

        self.claim(ticket["id"])

        self.assertReaches(self.supporter, ("gs-1", "vs-1"))
        self.assertEqual(self.product_status(self.supporter, "gs-2"), 404)

    def test_it_reaches_the_products_of_each_ticket_the_supporter_holds(self):
        first = self.open_ticket(products=["gs-1"])
        second = self.open_ticket(products=["vs-1"])
        self.claim(first["id"])
        self.assertEqual(self.product_status(self.supporter, "vs-1"), 404)

        self.claim(second["id"])

        self.assertReaches(self.supporter, ("gs-1", "vs-1"))
        self.staff_post(self.supporter, first["id"], "close")
        self.assertReaches(self.supporter, ("vs-1",))
        self.assertEqual(self.product_status(self.supporter, "gs-1"), 404)

    def test_it_refuses_a_ticket_about_another_customers_product(self):
        for products in (["gs-2"], ["gs-1", "gs-2"], ["no-such-product"]):
            with self.subTest(products=products):
                response = self.post(
                    "/me/tickets",
                    {"subject": "Fremd", "message": "Bitte helfen", "products": products},
                    self.token_for(self.customer),
                )

                self.assertProblem(response, 422, "invalid")
                self.assertIn("products", [e["field"] for e in response.json()["errors"]])
        self.assertEqual(self.get("/me/tickets", self.token_for(self.customer)).json(), [])
        self.assertEqual(self.get("/support/tickets", self.token_for(self.supporter)).json(), [])

    def test_it_refuses_a_follow_up_of_another_customers_ticket(self):
        theirs = self.open_ticket(customer=self.other_customer)

        response = self.post(
            "/me/tickets",
            {"subject": "Folge", "message": "Weiter", "follows": theirs["id"]},
            self.token_for(self.customer),
        )

        self.assertProblem(response, 422, "invalid")
        self.assertIn("follows", [e["field"] for e in response.json()["errors"]])
        self.assertEqual(self.get("/me/tickets", self.token_for(self.customer)).json(), [])

    def test_it_never_shows_a_customer_another_customers_ticket(self):
        theirs = self.open_ticket(customer=self.other_customer, subject="Geheim")
        tid = theirs["id"]
        token = self.token_for(self.customer)

        self.assertProblem(self.get(f"/me/tickets/{tid}", token), 404, "not_found")
        for action, body in (("messages", {"body": "Hallo"}), ("close", {}), ("reopen", {})):
            with self.subTest(action):
                response = self.post(f"/me/tickets/{tid}/{action}", body, token)
                self.assertProblem(response, 404, "not_found")
        self.assertEqual(self.get("/me/tickets", token).json(), [])
        # Not even a trace: the ticket is as its owner left it.
        own_view = self.get(f"/me/tickets/{tid}", self.token_for(self.other_customer)).json()
        self.assertEqual((own_view["status"], len(own_view["messages"])), ("open", 1))
        # An id that does not exist answers the same.
        self.assertProblem(self.get(f"/me/tickets/{tid + 1000}", token), 404, "not_found")
