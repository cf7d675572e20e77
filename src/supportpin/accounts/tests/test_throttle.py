import ipaddress
import os
import unittest
import uuid
from datetime import timedelta

import pyotp
import redis
from django.db import connection
from django.test import RequestFactory, TransactionTestCase, override_settings

from supportpin.accounts.throttle import count_failed_sign_in, sign_in_blocked
from testsupport import PASSWORD, START, THREADS, SupportPinTestCase, in_parallel

REDIS_URL = os.environ.get("SUPPORTPIN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def own_memory(name: str) -> dict:
    """The cache setting of an app process that has its own memory and shares only the database."""
    return {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": name}
    }


@override_settings(SUPPORTPIN_SIGN_IN_RATE="3/5m")
class SignInThrottleTests(SupportPinTestCase):
    def sign_in(self, username: str, password: str, otp: str | None = None):
        body = {"username": username, "password": password}
        if otp is not None:
            body["otp"] = otp
        return self.post("/auth/token", body)

    def current_code(self) -> str:
        return pyotp.TOTP(self.supporter.otp_secret).now()

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

    def test_it_counts_failures_that_another_app_process_saw(self):
        with override_settings(CACHES=own_memory("process-a")):
            for _ in range(3):
                self.sign_in("C-1001", "wrong")

        with override_settings(CACHES=own_memory("process-b")):
            self.assertProblem(self.sign_in("C-1001", PASSWORD), 429, "too_many_sign_ins")

    def test_it_counts_wrong_totp_codes_with_the_right_password(self):
        for _ in range(3):
            response = self.sign_in("sam", PASSWORD, otp="000000")
            self.assertProblem(response, 401, "invalid_credentials")

        response = self.sign_in("sam", PASSWORD, otp=self.current_code())

        self.assertProblem(response, 429, "too_many_sign_ins")


NGINX = "127.0.0.1"  # the trusted reverse proxy on the app's host
ATTACKER, NEIGHBOUR = "203.0.113.7", "198.51.100.9"


@override_settings(SUPPORTPIN_SIGN_IN_RATE="3/5m", SUPPORTPIN_TRUSTED_PROXIES=[])
class SignInThrottleBehindProxyTests(SupportPinTestCase):
    """nginx in front appends the client's address to X-Forwarded-For."""

    def sign_in(self, username: str, password: str, *, via: str, forwarded: str):
        return self.client.post(
            "/api/v1/auth/token",
            data={"username": username, "password": password},
            content_type="application/json",
            REMOTE_ADDR=via,
            HTTP_X_FORWARDED_FOR=forwarded,
        )

    def attacker_fails_three_times(self, *, forwarded: str = ATTACKER, via: str = NGINX) -> None:
        for login in ("x1", "x2", "x3"):  # other logins: only the address count can block
            self.assertEqual(
                self.sign_in(login, "wrong", via=via, forwarded=forwarded).status_code, 401
            )

    def trust_nginx(self):
        return override_settings(SUPPORTPIN_TRUSTED_PROXIES=[ipaddress.ip_network(NGINX)])

    def test_it_throttles_one_client_behind_a_trusted_proxy_and_not_the_next(self):
        with self.trust_nginx():
            self.attacker_fails_three_times()

            blocked = self.sign_in("C-1001", PASSWORD, via=NGINX, forwarded=ATTACKER)
            neighbour = self.sign_in("C-1001", PASSWORD, via=NGINX, forwarded=NEIGHBOUR)

        self.assertProblem(blocked, 429, "too_many_sign_ins")
        self.assertEqual(neighbour.status_code, 201, neighbour.content)

    def test_it_counts_everyone_behind_an_untrusted_proxy_as_the_proxy(self):
        self.attacker_fails_three_times()

        neighbour = self.sign_in("C-1001", PASSWORD, via=NGINX, forwarded=NEIGHBOUR)

        self.assertProblem(neighbour, 429, "too_many_sign_ins")

    def test_it_ignores_the_addresses_a_client_writes_itself(self):
        with self.trust_nginx():
            # nginx appends the real peer after whatever the client sent.
            for fake in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
                self.sign_in("x", "wrong", via=NGINX, forwarded=f"{fake}, {ATTACKER}")

            response = self.sign_in(
                "C-1001", PASSWORD, via=NGINX, forwarded=f"10.9.9.9, {ATTACKER}"
            )

        self.assertProblem(response, 429, "too_many_sign_ins")

    def test_it_ignores_x_forwarded_for_from_a_client_that_is_no_trusted_proxy(self):
        with self.trust_nginx():
            self.attacker_fails_three_times(via=ATTACKER, forwarded=NEIGHBOUR)

            response = self.sign_in("C-1001", PASSWORD, via=ATTACKER, forwarded=NEIGHBOUR)
            neighbour = self.sign_in("C-1001", PASSWORD, via=NGINX, forwarded=NEIGHBOUR)

        self.assertProblem(response, 429, "too_many_sign_ins")
        self.assertEqual(neighbour.status_code, 201, neighbour.content)


@override_settings(SUPPORTPIN_SIGN_IN_RATE="3/5m")
class SignInThrottleWithRedisTests(SupportPinTestCase):
    """REDIS_URL set: two app processes, each with its own connection to one Redis."""

    def setUp(self):
        super().setUp()
        try:
            redis.Redis.from_url(REDIS_URL).ping()
        except redis.RedisError as error:
            self.skipTest(f"needs Redis at {REDIS_URL} (SUPPORTPIN_TEST_REDIS_URL): {error}")
        prefix = f"test-{uuid.uuid4().hex}"  # no count of another test run can leak in
        backend = "django.core.cache.backends.redis.RedisCache"
        shared = {"BACKEND": backend, "LOCATION": REDIS_URL, "KEY_PREFIX": prefix}
        settings = override_settings(CACHES={"process-a": shared, "process-b": dict(shared)})
        settings.enable()
        self.addCleanup(settings.disable)

    def sign_in(self, password: str, *, process: str):
        with override_settings(SUPPORTPIN_SIGN_IN_CACHE=process):
            return self.post("/auth/token", {"username": "C-1001", "password": password})

    def test_it_signs_in(self):
        self.assertEqual(self.sign_in(PASSWORD, process="process-a").status_code, 201)

    def test_it_counts_failures_across_processes(self):
        for process in ("process-a", "process-b", "process-a"):
            response = self.sign_in("wrong", process=process)
            self.assertProblem(response, 401, "invalid_credentials")

        response = self.sign_in(PASSWORD, process="process-b")

        self.assertProblem(response, 429, "too_many_sign_ins")


@unittest.skipUnless(
    connection.vendor == "postgresql",
    "needs PostgreSQL: SQLite takes one writer at a time, so there is no race to test "
    "(run with DATABASE_URL=postgres://…)",
)
class SignInCountRaceTests(TransactionTestCase):
    def test_it_loses_no_failure_counted_at_the_same_moment(self):
        limit = THREADS - 1
        request = RequestFactory().post("/api/v1/auth/token", REMOTE_ADDR="192.0.2.7")

        with override_settings(SUPPORTPIN_SIGN_IN_RATE=f"{limit}/5m"):
            results = in_parallel(
                lambda _: count_failed_sign_in(request, "C-1001", now=START), range(limit - 1)
            )
            self.assertEqual([r for r in results if r is not None], [])
            self.assertFalse(sign_in_blocked(request, "C-1001", now=START))

            count_failed_sign_in(request, "C-1001", now=START)

            self.assertTrue(sign_in_blocked(request, "C-1001", now=START))
