import json
import re
from io import StringIO

from django.conf import settings
from django.core import mail
from django.core.management import call_command

from supportpin.notify.models import Kind, OutboxMessage
from testsupport import PASSWORD, SupportPinTestCase, personal_markers

MARKERS = [value for number in ("C-1001", "C-2002") for value in personal_markers(number).values()]


def leaked(text: str) -> list[str]:
    """Return the personal-data markers found in `text` (case-insensitive)."""
    lowered = text.lower()
    return [m for m in MARKERS if m.lower() in lowered]


class PersonalDataTests(SupportPinTestCase):
    """No staff-facing response, e-mail or webhook carries a customer's personal data."""

    def setUp(self):
        super().setUp()
        self.seen: list[tuple[str, str]] = []  # (what, text) of everything staff could see

    def see(self, what: str, response):
        """Keep a staff-facing response (body and every header) for the final check."""
        headers = "\n".join(f"{k}: {v}" for k, v in response.items())
        self.seen.append((what, f"{headers}\n\n{response.content.decode()}"))
        return response

    def staff_call(self, who, method: str, path: str, body=None, *, token: str | None = None):
        token = token or self.token_for(who)
        response = self.call(method, path, token=token, body=body)
        return self.see(f"{getattr(who, 'username', who)} {method} {path}", response)

    def assertNothingLeaked(self) -> None:
        self.assertGreater(len(self.seen), 40)
        for what, text in self.seen:
            with self.subTest(what=what):
                self.assertEqual(leaked(text), [], text[:2000])

    # --- the customer sees their own data: the markers are real ------------------------

    def test_it_shows_the_customer_their_own_personal_data(self):
        response = self.get("/me", self.token_for(self.customer))

        self.assertEqual(response.status_code, 200)
        text = response.content.decode()
        for value in personal_markers("C-1001").values():
            self.assertIn(value, text)
        self.assertEqual(leaked(text), list(personal_markers("C-1001").values()))

    # --- staff ---------------------------------------------------------------------------

    def test_it_keeps_personal_data_out_of_everything_staff_see(self):
        ticket = self.post(
            "/me/tickets",
            {"subject": "Server lagging", "message": "Please look", "products": ["gs-1"]},
            self.token_for(self.customer),
        )
        self.assertEqual(ticket.status_code, 201, ticket.content)
        ticket_id = ticket.json()["id"]

        sam = self.walk_staff_endpoints(
            self.supporter, customer=self.customer, product="gs-1", second="vs-1"
        )
        ada = self.walk_staff_endpoints(
            self.admin, customer=self.other_customer, product="gs-2", second=None
        )
        self.walk_integration_endpoints(sam_grant=sam)
        self.walk_error_responses(ticket_id)
        for who, grant_id, number, product in (
            (self.supporter, sam, "C-1001", "gs-1"),
            (self.admin, ada, "C-2002", "gs-2"),
        ):
            self.sweep_every_route(
                who,
                {
                    "number": number,
                    "product_id": product,
                    "grant_id": grant_id,
                    "ticket_id": ticket_id,
                    # No such file: a found one streams, and its content is the customer's.
                    "attachment_id": 999999,
                    "id": ticket_id,
                    "username": "olga",
                    "entry_id": ticket_id,
                    "path": "0/000.p/1",
                },
            )
        self.block_supporter()
        self.check_staff_mail_and_webhooks()

        self.assertNothingLeaked()

    def walk_staff_endpoints(self, who, *, customer, product: str, second: str | None) -> int:
        """Redeem a PIN and use every supporter endpoint on the customer's products."""
        token = self.token_for(who)
        pin = self.current_pin(customer)
        redeemed = self.staff_call(
            who, "POST", "/support/pin-redemptions", {"customer": customer.pk, "pin": pin}
        )
        self.assertEqual(redeemed.status_code, 201, redeemed.content)
        again = self.staff_call(
            who,
            "POST",
            "/support/pin-redemptions",
            {"customer": customer.pk, "pin": f"{pin[:3]} {pin[3:]}"},
        )
        self.assertEqual(again.status_code, 200, again.content)
        grant_id = redeemed.json()["id"]

        self.assertEqual(self.staff_call(who, "GET", "/support/grants").status_code, 200)
        listed = self.staff_call(who, "GET", f"/support/customers/{customer.pk}/products")
        self.assertEqual(listed.status_code, 200)
        for product_id in filter(None, (product, second)):
            read = self.staff_call(who, "GET", f"/support/products/{product_id}", token=token)
            self.assertEqual(read.status_code, 200, read.content)
            self.assertEqual(read.json()["customer"], customer.pk)
        action = self.staff_call(
            who, "POST", f"/support/products/{product}/actions", {"action": "restart"}
        )
        self.assertEqual(action.status_code, 202, action.content)
        for path in ("/support/tickets", "/support/tickets?assignee=none"):
            self.assertEqual(self.staff_call(who, "GET", path).status_code, 200)
        return grant_id

    def walk_integration_endpoints(self, *, sam_grant: int) -> None:
        """Decisions and staff management, with the API key and the admin's token."""
        decisions = {}
        for supporter, product in (("sam", "gs-1"), ("olga", "gs-1"), ("sam", "gs-2")):
            response = self.staff_call(
                "api-key",
                "GET",
                f"/decisions?supporter={supporter}&product={product}",
                token=self.api_key,
            )
            self.assertEqual(response.status_code, 200, response.content)
            decisions[supporter, product] = response.json()["grant_id"]
        self.assertEqual(
            decisions, {("sam", "gs-1"): sam_grant, ("olga", "gs-1"): None, ("sam", "gs-2"): None}
        )
        for token, who in ((self.api_key, "api-key"), (self.token_for(self.admin), self.admin)):
            staff = {"display_name": "Olga O.", "password": PASSWORD, "role": "supporter"}
            self.assertEqual(
                self.staff_call(who, "PUT", "/staff/olga", staff, token=token).status_code, 200
            )
            unlock = self.staff_call(who, "POST", "/staff/olga/unlock", token=token)
            self.assertEqual(unlock.status_code, 200)

    def walk_error_responses(self, ticket_id: int) -> None:
        """Every kind of refusal staff can provoke, aimed at the customer's data."""
        m = personal_markers("C-1001")
        sam, olga = self.supporter, self.other_supporter
        expectations = [
            # (who, method, path, body, status)
            (olga, "GET", "/support/products/gs-1", None, 404),
            (olga, "GET", "/support/products/no-such-product", None, 404),
            (olga, "GET", "/support/customers/C-1001/products", None, 404),
            (olga, "POST", "/support/products/gs-1/actions", {"action": "restart"}, 404),
            (sam, "POST", "/support/products/gs-1/actions", {"action": m["name"]}, 422),
            (olga, "POST", "/support/pin-redemptions", {"customer": "C-1001", "pin": "1"}, 403),
            (olga, "POST", "/support/pin-redemptions", {"customer": m["email"], "pin": "1"}, 403),
            (olga, "POST", "/support/pin-redemptions", {"customer": "C-1001", "pin": "x"}, 422),
            (olga, "DELETE", "/support/grants/999999", None, 404),
            (sam, "GET", "/me", None, 403),
            (sam, "GET", "/me/access-log", None, 403),
            (sam, "GET", "/me/tickets", None, 403),
            (sam, "PUT", "/customers/C-1001", {"name": m["name"], "email": m["email"]}, 403),
            (sam, "GET", "/decisions?supporter=sam&product=gs-1", None, 403),
            (sam, "POST", "/staff/olga/unlock", None, 403),
            (sam, "GET", "/support/tickets/999999", None, 404),
            (sam, "GET", f"/support/tickets/{ticket_id}", None, 200),
        ]
        for who, method, path, body, status in expectations:
            response = self.staff_call(who, method, path, body)
            self.assertEqual(response.status_code, status, (method, path, response.content))
        unauthenticated = self.see("no token", self.get("/support/products/gs-1"))
        self.assertEqual(unauthenticated.status_code, 401)
        # Input that carries personal data is refused without echoing it back.
        for body in (
            {"name": m["name"], "email": m["name"], "phone": m["phone"]},
            {"name": m["name"], "email": m["email"], "address": {"zip": m["zip"] * 10}},
        ):
            response = self.staff_call(
                "api-key", "PUT", "/customers/C-1001", body, token=self.api_key
            )
            self.assertEqual(response.status_code, 422, response.content)
        sign_in = self.see(
            "sign-in with the customer's e-mail",
            self.post("/auth/token", {"username": m["email"], "password": "wrong password"}),
        )
        self.assertEqual(sign_in.status_code, 401)

    def sweep_every_route(self, who, params: dict) -> None:
        """Call every route of the OpenAPI document, whatever its role, with a staff token."""
        schema = self.client.get("/api/v1/openapi.json").json()
        calls = 0
        for template, operations in schema["paths"].items():
            if template.startswith("/api/v1/auth/"):
                continue  # signing out would only kill the sweep's own token
            path = re.sub(r"\{(\w+)\}", lambda match: str(params[match.group(1)]), template)
            for method in operations:
                if method.upper() not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                    continue
                response = self.see(
                    f"sweep {who.username} {method.upper()} {path}",
                    self.client.generic(
                        method.upper(),
                        path,
                        data="{}",
                        content_type="application/json",
                        HTTP_AUTHORIZATION=f"Bearer {self.token_for(who)}",
                    ),
                )
                self.assertLess(response.status_code, 500, (method, path, response.content))
                calls += 1
        self.assertGreater(calls, 20)

    def block_supporter(self) -> None:
        """Ten wrong PINs: the supporter sees 429 and the admins get an e-mail."""
        token = self.token_for(self.other_supporter)
        pin = self.current_pin()
        for _ in range(settings.SUPPORTPIN_SUPPORTER_MAX_FAILURES):
            self.staff_call(
                self.other_supporter,
                "POST",
                "/support/pin-redemptions",
                {"customer": "C-1001", "pin": self.wrong_pin(pin)},
                token=token,
            )
        blocked = self.staff_call(
            self.other_supporter,
            "POST",
            "/support/pin-redemptions",
            {"customer": "C-1001", "pin": self.current_pin()},
            token=token,
        )
        self.assertProblem(blocked, 429, "too_many_attempts")

    def check_staff_mail_and_webhooks(self) -> None:
        """Keep every e-mail to staff and every webhook payload for the final check."""
        customer_addresses = {personal_markers(n)["email"] for n in ("C-1001", "C-2002")}
        staff_mail = 0
        for message in OutboxMessage.objects.order_by("pk"):
            if message.kind == Kind.EMAIL and set(message.payload["to"]) & customer_addresses:
                continue  # the customer's own notifications
            staff_mail += message.kind == Kind.EMAIL
            text = json.dumps(message.payload, ensure_ascii=False)
            self.seen.append((f"outbox {message.kind} {message.pk}", text))
        self.assertGreaterEqual(staff_mail, 1)  # the admins' "supporter blocked" mail
        webhooks = OutboxMessage.objects.filter(kind=Kind.WEBHOOK).count()
        self.assertGreaterEqual(webhooks, 2)

        call_command("worker", "--once", stdout=StringIO())
        sent_to_staff = [
            m for m in mail.outbox if not set(m.to) & customer_addresses and m.to != []
        ]
        self.assertEqual(len(sent_to_staff), staff_mail)
        for message in sent_to_staff:
            self.seen.append((f"mail to {message.to}", message.message().as_string()))
