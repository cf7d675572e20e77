"""Structured logs: one JSON line per request with its id, and no secret in any line."""

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO

import pyotp
import structlog
from django.core.management import call_command

from supportpin.lib import clock
from testsupport import PASSWORD, SupportPinTestCase, personal_markers

WRONG_PASSWORD = "wrong-password-LOGMARK-31"
TICKET_TEXT = "ticket-text-LOGMARK-58"


class LogTests(SupportPinTestCase):
    @contextmanager
    def captured(self) -> Iterator[StringIO]:
        """Collect every log line, at every level, rendered as the service renders them."""
        root = logging.getLogger()
        configured = next(
            h for h in root.handlers if isinstance(h.formatter, structlog.stdlib.ProcessorFormatter)
        )
        stream = StringIO()
        handler = logging.StreamHandler(stream)
        handler.setFormatter(configured.formatter)
        level = root.level
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        try:
            yield stream
        finally:
            root.removeHandler(handler)
            root.setLevel(level)

    def lines(self, stream: StringIO) -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    def test_it_writes_no_personal_data_pin_token_or_password_in_a_full_scenario(self):
        with self.captured() as stream:
            wrong = self.post("/auth/token", {"username": "C-1001", "password": WRONG_PASSWORD})
            self.assertEqual(wrong.status_code, 401)
            signed_in = self.post("/auth/token", {"username": "C-1001", "password": PASSWORD})
            customer_token = signed_in.json()["token"]
            code = pyotp.TOTP(self.supporter.otp_secret).at(clock.now())
            staff = self.post("/auth/token", {"username": "sam", "password": PASSWORD, "otp": code})
            staff_token = staff.json()["token"]
            pin = self.get("/me/support-pin", customer_token).json()["pin"]
            redeemed = self.post(
                "/support/pin-redemptions", {"customer": "C-1001", "pin": pin}, staff_token
            )
            self.assertEqual(redeemed.status_code, 201, redeemed.content)
            self.assertEqual(self.get("/support/products/gs-1", staff_token).status_code, 200)
            ticket = self.post(
                "/me/tickets", {"subject": TICKET_TEXT, "message": TICKET_TEXT}, customer_token
            )
            self.assertEqual(ticket.status_code, 201, ticket.content)
            call_command("worker", "--once", stdout=StringIO())

        output = stream.getvalue()
        secrets = [
            *personal_markers("C-1001").values(),
            pin,
            customer_token,
            staff_token,
            PASSWORD,
            WRONG_PASSWORD,
            TICKET_TEXT,
            self.supporter.otp_secret,
        ]
        for secret in secrets:
            self.assertNotIn(secret, output)
        lines = self.lines(stream)
        requests = [line for line in lines if line["event"] == "request"]
        self.assertEqual(len(requests), 7)
        self.assertIn(
            {"route": "/api/v1/support/pin-redemptions", "method": "POST", "status": 201},
            [{k: r[k] for k in ("route", "method", "status")} for r in requests],
        )
        self.assertTrue(all(len(r["request_id"]) == 32 for r in requests))
        self.assertEqual(len({r["request_id"] for r in requests}), 7)
        deliveries = [line for line in lines if line["event"] == "delivery"]
        self.assertTrue(deliveries)
        self.assertTrue(all(d["outcome"] == "sent" for d in deliveries))

    def test_it_sends_the_request_id_back_and_logs_it(self):
        with self.captured() as stream:
            response = self.client.get("/healthz")

        (line,) = self.lines(stream)
        self.assertEqual(line["request_id"], response["X-Request-ID"])
        self.assertEqual((line["route"], line["status"]), ("/healthz", 200))
        self.assertIsInstance(line["duration_ms"], float)

    def test_it_keeps_a_sane_request_id_from_the_proxy(self):
        with self.captured() as stream:
            response = self.client.get("/healthz", headers={"X-Request-ID": "nginx-7f3a.42:1"})

        self.assertEqual(response["X-Request-ID"], "nginx-7f3a.42:1")
        self.assertEqual(self.lines(stream)[0]["request_id"], "nginx-7f3a.42:1")

    def test_it_replaces_a_request_id_that_could_forge_log_lines(self):
        for forged in ('x" "admin": "yes', "a" * 129, "id with spaces", "-starts-with-dash"):
            response = self.client.get("/healthz", headers={"X-Request-ID": forged})
            self.assertNotEqual(response["X-Request-ID"], forged)
            self.assertRegex(response["X-Request-ID"], r"^[0-9a-f]{32}$")

    def test_it_names_the_route_not_the_path(self):
        sam = self.token_for(self.supporter)
        with self.captured() as stream:
            self.get(f"/support/customers/{self.customer.pk}/products", sam)

        (line,) = self.lines(stream)
        self.assertEqual(line["route"], "/api/v1/support/customers/<number>/products")
        self.assertNotIn(self.customer.pk, stream.getvalue())
