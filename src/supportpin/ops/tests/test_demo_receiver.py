"""`supportpin demo-receiver` checks signatures like a provider's receiver, shows each delivery."""

import hashlib
import hmac
import json
import threading
import urllib.error
import urllib.request
from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import SimpleTestCase, override_settings

from supportpin.accounts.models import Customer, Staff
from supportpin.notify.models import Kind, OutboxMessage
from supportpin.ops.receiver import DemoReceiver
from testsupport import START, SupportPinTestCase, personal_markers

SECRET = "receiver-test-secret"


class RunningReceiver:
    """The real receiver on a free port of 127.0.0.1, in a thread, with the lines it printed."""

    def __init__(self, secret: str = SECRET):
        self.lines: list[str] = []
        self.server = DemoReceiver(("127.0.0.1", 0), secret=secret, report=self.lines.append)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The documented signature, computed here: "sha256=" + HMAC-SHA256("<timestamp>.<body>")."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class ReceiverTestCase(SupportPinTestCase):
    def setUp(self):
        super().setUp()
        self.receiver = RunningReceiver()
        self.addCleanup(self.receiver.close)

    def deliver(self, payload: dict, *, signature: str | None = None, timestamp=None) -> int:
        """POST `payload` as Support-PIN would; return the receiver's status code."""
        body = json.dumps(payload).encode()
        timestamp = (timestamp or START).isoformat()
        request = urllib.request.Request(  # noqa: S310 - a local test URL
            self.receiver.url + "/actions",
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-SupportPIN-Delivery": "41",
                "X-SupportPIN-Timestamp": timestamp,
                "X-SupportPIN-Signature": signature or sign(SECRET, timestamp, body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status
        except urllib.error.HTTPError as error:
            return error.code


class DemoReceiverTests(ReceiverTestCase):
    ACTION = {
        "event": "product_action",
        "action": "restart",
        "product": "gs-1",
        "customer": "C-1001",
        "supporter": "sam",
        "basis": "pin",
        "grant_id": 7,
        "at": START.isoformat(),
    }

    def test_it_takes_a_well_signed_product_action_and_prints_its_ids(self):
        self.assertEqual(self.deliver(self.ACTION), 204)

        self.assertEqual(
            self.receiver.lines,
            ["delivery 41: product_action restart, product gs-1, customer C-1001, supporter sam"],
        )

    def test_it_prints_a_grant_event_generically(self):
        event = {
            "id": "7b0c",
            "type": "grant.ended",
            "occurred_at": START.isoformat(),
            "grant": {
                "id": 9,
                "customer": "C-1001",
                "supporter": "Sam S.",
                "supporter_username": "sam",
                "basis": "pin",
            },
            "reason": "expired",
        }

        self.assertEqual(self.deliver(event), 204)

        self.assertEqual(
            self.receiver.lines,
            ["delivery 41: grant.ended, grant 9, supporter sam, customer C-1001, reason expired"],
        )

    def test_it_refuses_a_signature_made_with_another_secret(self):
        body = json.dumps(self.ACTION).encode()

        status = self.deliver(self.ACTION, signature=sign("wrong", START.isoformat(), body))

        self.assertEqual(status, 401)
        self.assertEqual(self.receiver.lines, ["delivery 41: refused, bad or old signature"])

    def test_it_refuses_a_body_changed_after_signing(self):
        signed = sign(SECRET, START.isoformat(), json.dumps(self.ACTION).encode())

        status = self.deliver(self.ACTION | {"action": "reinstall"}, signature=signed)

        self.assertEqual(status, 401)

    def test_it_refuses_a_delivery_signed_six_minutes_ago(self):
        self.assertEqual(self.deliver(self.ACTION, timestamp=START - timedelta(minutes=4)), 204)
        self.assertEqual(self.deliver(self.ACTION, timestamp=START - timedelta(minutes=6)), 401)

    def test_it_keeps_personal_data_off_the_terminal(self):
        self.deliver(self.ACTION | {"note": personal_markers("C-1001")["name"]})

        self.assertNotIn(personal_markers("C-1001")["name"], "\n".join(self.receiver.lines))


class DemoReceiverCommandTests(SimpleTestCase):
    @override_settings(SUPPORTPIN_ACTION_WEBHOOK_SECRET="")
    def test_it_refuses_to_start_without_a_secret(self):
        with self.assertRaisesMessage(CommandError, "SUPPORTPIN_ACTION_WEBHOOK_SECRET"):
            call_command("demo-receiver", "--secret", "", stdout=StringIO())


class DemoDeliveryTests(ReceiverTestCase):
    """The demo's set-up end to end: a supporter's action reaches the receiver in one pass."""

    def test_it_delivers_a_product_action_of_the_demo_in_one_worker_pass(self):
        call_command("demo", stdout=StringIO())
        anna = Staff.objects.get(username="anna")
        pin = self.get("/me/support-pin", self.token_for(Customer.objects.get(pk="K10001"))).json()[
            "pin"
        ]
        token = self.token_for(anna)
        self.assertEqual(
            self.post(
                "/support/pin-redemptions", {"customer": "K10001", "pin": pin}, token
            ).status_code,
            201,
        )
        response = self.post("/support/products/gs-1001/actions", {"action": "restart"}, token)
        self.assertEqual(response.status_code, 202, response.content)

        with override_settings(
            SUPPORTPIN_ACTION_WEBHOOK_URL=self.receiver.url + "/actions",
            SUPPORTPIN_ACTION_WEBHOOK_SECRET=SECRET,
        ):
            call_command("worker", "--once", stdout=StringIO())

        delivery = OutboxMessage.objects.get(kind=Kind.WEBHOOK)
        self.assertIsNotNone(delivery.sent_at)
        self.assertIn(
            f"delivery {delivery.pk}: product_action restart, product gs-1001, "
            "customer K10001, supporter anna",
            self.receiver.lines,
        )
