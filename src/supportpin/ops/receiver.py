"""A tiny webhook receiver for trying Support-PIN locally: the model of a provider's receiver.

It checks every delivery the way docs/webhooks.md tells a provider to, on its own (it does not
borrow the sender's signing code, so a mistake on one side cannot hide on the other), and
prints one line per delivery with ids only: no customer's personal data reaches the terminal.
"""

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# A delivery signed longer ago (or further ahead) than this is refused, as docs/webhooks.md
# advises receivers: a captured delivery cannot be replayed later.
MAX_AGE = timedelta(minutes=5)
# Webhook bodies are a few hundred bytes; anything much larger is not from Support-PIN.
MAX_BODY_BYTES = 64 * 1024


def signature_is_valid(*, secret: bytes, timestamp: str, body: bytes, signature: str) -> bool:
    """Return whether `signature` signs "<timestamp>.<body>" with `secret` at a fresh time."""
    try:
        signed_at = datetime.fromisoformat(timestamp)
    except ValueError:
        return False
    if signed_at.tzinfo is None or abs(datetime.now(UTC) - signed_at) > MAX_AGE:
        return False
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest("sha256=" + digest, signature)


def describe(delivery: str, payload: dict) -> str:
    """Return one line naming a delivery: its id, what happened, and to which ids."""
    if "grant" in payload:
        grant = payload["grant"] if isinstance(payload["grant"], dict) else {}
        parts = [
            str(payload.get("type", "grant event")),
            f"grant {grant.get('id', '?')}",
            f"supporter {grant.get('supporter_username') or grant.get('supporter', '?')}",
            f"customer {grant.get('customer', '?')}",
        ]
        if payload.get("reason"):
            parts.append(f"reason {payload['reason']}")
    else:
        parts = [
            f"{payload.get('event', 'webhook')} {payload.get('action', '?')}",
            f"product {payload.get('product', '?')}",
            f"customer {payload.get('customer', '?')}",
            f"supporter {payload.get('supporter', '?')}",
        ]
    return f"delivery {delivery}: " + ", ".join(parts)


class DemoReceiver(ThreadingHTTPServer):
    """An HTTP server that takes signed Support-PIN webhooks on any path and reports each."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], *, secret: str, report: Callable[[str], None]):
        super().__init__(address, _DeliveryHandler)
        self.secret = secret.encode()
        self.report = report


class _DeliveryHandler(BaseHTTPRequestHandler):
    server: DemoReceiver

    def do_POST(self) -> None:
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self._answer(HTTPStatus.BAD_REQUEST, "no body or a body too large")
            return
        body = self.rfile.read(length)
        delivery = self.headers.get("X-SupportPIN-Delivery", "?")
        if not signature_is_valid(
            secret=self.server.secret,
            timestamp=self.headers.get("X-SupportPIN-Timestamp", ""),
            body=body,
            signature=self.headers.get("X-SupportPIN-Signature", ""),
        ):
            self.server.report(f"delivery {delivery}: refused, bad or old signature")
            self._answer(HTTPStatus.UNAUTHORIZED, "bad or old signature")
            return
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            self._answer(HTTPStatus.BAD_REQUEST, "the body is no JSON object")
            return
        self.server.report(describe(delivery, payload))
        self._answer(HTTPStatus.NO_CONTENT, "")

    def _answer(self, status: HTTPStatus, reason: str) -> None:
        body = reason.encode()
        self.send_response(status)
        if body:
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:
        # The one line per delivery says it all; the default access line would repeat it.
        return
