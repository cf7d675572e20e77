from datetime import timedelta

from django.test import override_settings

from supportpin.lib.testing import PASSWORD, START, SupportPinTestCase


@override_settings(SUPPORTPIN_SIGN_IN_RATE="3/5m")
class SignInThrottleTests(SupportPinTestCase):
    def sign_in(self, username: str, password: str):
        return self.post("/auth/token", {"username": username, "password": password})

    def test_it_refuses_even_the_right_password_after_too_many_failures(self):
        for _ in range(3):
            self.assertProblem(self.sign_in("C-1001", "wrong"), 401, "invalid_credentials")

        self.assertProblem(self.sign_in("C-1001", PASSWORD), 429, "too_many_sign_ins")

    def test_it_does_not_count_successful_sign_ins(self):
        for _ in range(5):
            self.assertEqual(self.sign_in("C-1001", PASSWORD).status_code, 201)

    def test_it_lets_the_login_in_again_after_the_window(self):
        for _ in range(3):
            self.sign_in("C-1001", "wrong")

        self.travel_to(START + timedelta(minutes=10))

        self.assertEqual(self.sign_in("C-1001", PASSWORD).status_code, 201)
