from datetime import timedelta

from testsupport import START, SupportPinTestCase


class PinFlowTests(SupportPinTestCase):
    def test_it_lets_a_supporter_reach_products_only_after_redeeming_the_pin(self):
        token = self.token_for(self.supporter)
        self.assertProblem(self.get("/support/products/gs-1", token), 404, "not_found")

        response = self.redeem(self.current_pin())

        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["supporter"], "Sam S.")
        self.assertEqual(self.get("/support/products/gs-1", token).status_code, 200)
        self.assertProblem(self.get("/support/products/gs-2", token), 404, "not_found")

    def test_it_ends_access_the_second_the_pin_turns_sixty_minutes_old(self):
        self.redeem(self.current_pin())
        token = self.token_for(self.supporter)

        self.travel_to(START + timedelta(minutes=59, seconds=59))
        self.assertEqual(self.get("/support/products/gs-1", token).status_code, 200)
        self.travel_to(START + timedelta(minutes=60))
        self.assertProblem(self.get("/support/products/gs-1", token), 404, "not_found")
