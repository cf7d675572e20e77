import json
import re

from django.conf import settings

from testsupport import PASSWORD, SupportPinTestCase

HUGE_STRING = "x" * 10_000
CUSTOMER_BODY = {"name": "Nora Neu", "email": "nora@example.com", "password": "long password"}
PRODUCT_BODY = {"customer": "C-1001", "type": "webspace", "name": "Homepage"}
STAFF_BODY = {"display_name": "Neo N.", "password": "long password", "role": "supporter"}
REDEMPTION_BODY = {"customer": "C-1001", "pin": "123456"}


class BadInputTests(SupportPinTestCase):
    def endpoints(self) -> list[tuple[str, str, str, dict]]:
        """(method, path, token, a valid body) of the endpoints that take a JSON body."""
        supporter = self.token_for(self.supporter)
        return [
            ("POST", "/auth/token", "", {"username": "C-1001", "password": PASSWORD}),
            ("POST", "/support/pin-redemptions", supporter, REDEMPTION_BODY),
            ("PUT", "/customers/C-3003", self.api_key, CUSTOMER_BODY),
            ("PUT", "/products/ws-7", self.api_key, PRODUCT_BODY),
            ("PUT", "/staff/neo", self.api_key, STAFF_BODY),
            ("POST", "/support/products/gs-1/actions", supporter, {"action": "restart"}),
        ]

    def assertInvalid(self, response) -> None:
        self.assertProblem(response, 422, "invalid")
        errors = response.json()["errors"]
        self.assertIsInstance(errors, list)
        self.assertTrue(errors, "an `invalid` problem names what is wrong")

    def send(self, method: str, path: str, token: str, *, body=None, raw: str | None = None):
        return self.call(method, path, token=token or None, body=body, raw=raw)

    def test_it_refuses_malformed_json(self):
        for method, path, token, _ in self.endpoints():
            for raw in ('{"username": ', "not json", "{'single': 'quotes'}", "\x00\xff"):
                with self.subTest(path=path, raw=raw):
                    self.assertInvalid(self.send(method, path, token, raw=raw))

    def test_it_refuses_json_that_is_not_an_object(self):
        for method, path, token, _ in self.endpoints():
            for body in ([], [{"a": 1}], "text", 42, None, True):
                with self.subTest(path=path, body=body):
                    raw = json.dumps(body)
                    self.assertInvalid(self.send(method, path, token, raw=raw))

    def test_it_refuses_fields_of_the_wrong_type(self):
        for method, path, token, valid in self.endpoints():
            for field in valid:
                for wrong in (42, ["a"], {"a": "b"}, None, True):
                    if path.startswith("/customers/") and field == "password" and wrong is None:
                        continue  # "no password" is how an update keeps the old one
                    with self.subTest(path=path, field=field, wrong=wrong):
                        response = self.send(method, path, token, body=valid | {field: wrong})
                        self.assertInvalid(response)
                        self.assertIn(field, json.dumps(response.json()["errors"]))

    def test_it_refuses_missing_fields(self):
        for method, path, token, valid in self.endpoints():
            self.assertInvalid(self.send(method, path, token, body={}))
            for field in valid:
                if path.startswith("/customers/") and field == "password":
                    continue  # optional: an update may keep the old password
                with self.subTest(path=path, field=field):
                    body = {k: v for k, v in valid.items() if k != field}
                    self.assertInvalid(self.send(method, path, token, body=body))

    def test_it_refuses_oversized_strings(self):
        for method, path, token, valid in self.endpoints():
            for field in valid:
                with self.subTest(path=path, field=field):
                    response = self.send(method, path, token, body=valid | {field: HUGE_STRING})
                    self.assertInvalid(response)
                    self.assertNotIn(HUGE_STRING, response.content.decode())

    def test_it_refuses_oversized_nested_strings(self):
        address = {"street": HUGE_STRING, "zip": "1", "city": "c", "country": "DE"}
        response = self.put("/customers/C-3003", CUSTOMER_BODY | {"address": address}, self.api_key)

        self.assertInvalid(response)

    def test_it_refuses_strings_with_nul_characters(self):
        supporter = self.token_for(self.supporter)
        cases = [
            ("POST", "/auth/token", "", {"username": "C-1001\x00", "password": PASSWORD}),
            ("POST", "/auth/token", "", {"username": "a@b\x00.de", "password": PASSWORD}),
            ("POST", "/support/pin-redemptions", supporter, {"customer": "C\x00", "pin": "1"}),
            ("PUT", "/customers/C-3003", self.api_key, CUSTOMER_BODY | {"name": "N\x00"}),
            ("PUT", "/products/ws-7", self.api_key, PRODUCT_BODY | {"name": "N\x00"}),
            ("PUT", "/staff/neo", self.api_key, STAFF_BODY | {"display_name": "N\x00"}),
        ]
        for method, path, token, body in cases:
            with self.subTest(path=path, body=body):
                response = self.send(method, path, token, body=body)
                self.assertLess(response.status_code, 500, response.content)
                self.assertEqual(response["Content-Type"], "application/problem+json")

    def test_it_refuses_ids_that_break_the_pattern(self):
        bad_ids = ["bad%20id", "x" * 65, "%C3%A4", "a.b", "a%00b"]
        puts = [
            ("/customers/", CUSTOMER_BODY),
            ("/products/", PRODUCT_BODY),
            ("/staff/", STAFF_BODY),
        ]
        for prefix, body in puts:
            for bad in bad_ids:
                with self.subTest(path=prefix + bad):
                    self.assertInvalid(self.put(prefix + bad, body, self.api_key))
        self.assertInvalid(
            self.put("/products/ws-7", PRODUCT_BODY | {"customer": "bad id"}, self.api_key)
        )

    def test_it_refuses_a_bad_product_type(self):
        for bad in ("Game Server", "", "x" * 33):
            with self.subTest(type=bad):
                response = self.put("/products/ws-7", PRODUCT_BODY | {"type": bad}, self.api_key)
                self.assertInvalid(response)

    def test_it_refuses_a_bad_email_and_a_bad_role(self):
        self.assertInvalid(
            self.put("/customers/C-3003", CUSTOMER_BODY | {"email": "no"}, self.api_key)
        )
        self.assertInvalid(self.put("/staff/neo", STAFF_BODY | {"role": "customer"}, self.api_key))
        self.assertInvalid(self.put("/staff/neo", STAFF_BODY | {"role": "root"}, self.api_key))

    def test_it_refuses_a_pin_that_is_not_digits(self):
        for pin in ("abcdef", "12a456", "!!"):
            with self.subTest(pin=pin):
                self.assertInvalid(self.redeem(pin))

    def test_it_refuses_a_bad_access_log_cursor(self):
        token = self.token_for(self.customer)
        for cursor in ("abc", "0", "-1", "1.5", ""):
            with self.subTest(cursor=cursor):
                self.assertInvalid(self.get(f"/me/access-log?cursor={cursor}", token))
        self.assertEqual(self.get("/me/access-log?cursor=5", token).status_code, 200)

    def test_it_answers_unknown_ids_with_404(self):
        supporter = self.token_for(self.supporter)
        customer = self.token_for(self.customer)
        cases = [
            self.get("/support/products/nope", supporter),
            self.post("/support/products/nope/actions", {"action": "restart"}, supporter),
            self.get("/support/customers/C-9999/products", supporter),
            self.delete("/support/grants/999999", supporter),
            self.delete("/me/grants/999999", customer),
            self.post("/staff/ghost/unlock", token=self.api_key),
        ]
        for response in cases:
            with self.subTest(path=response.request["PATH_INFO"]):
                self.assertProblem(response, 404, "not_found")

    def test_it_refuses_an_unknown_action(self):
        token = self.token_for(self.supporter)
        self.redeem(self.current_pin())

        response = self.post("/support/products/gs-1/actions", {"action": "format-c"}, token)

        self.assertInvalid(response)
        self.assertEqual(
            self.post("/support/products/gs-1/actions", {"action": "restart"}, token).status_code,
            202,
        )

    def test_it_refuses_a_body_larger_than_the_upload_limit(self):
        raw = json.dumps({"username": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE, "password": "p"})

        response = self.call("POST", "/auth/token", raw=raw)

        self.assertGreaterEqual(response.status_code, 400)
        self.assertLess(response.status_code, 500)
        self.assertEqual(response["Content-Type"], "application/problem+json")

    def test_it_answers_a_wrong_method_with_405(self):
        supporter = self.token_for(self.supporter)
        cases = [
            ("GET", "/auth/token", None),
            ("PATCH", "/customers/C-1001", self.api_key),
            ("DELETE", "/support/pin-redemptions", supporter),
            ("POST", "/decisions", self.api_key),
        ]
        for method, path, token in cases:
            with self.subTest(method=method, path=path):
                response = self.call(method, path, token=token, body={})
                self.assertEqual(response.status_code, 405, response.content)

    def test_it_answers_a_wrong_method_with_a_problem(self):
        response = self.call("PATCH", "/customers/C-1001", token=self.api_key, body={})

        self.assertProblem(response, 405, "method_not_allowed")

    def test_it_refuses_overflowing_numeric_ids(self):
        huge = "9" * 30
        supporter = self.token_for(self.supporter)
        customer = self.token_for(self.customer)

        for response in (
            self.delete(f"/support/grants/{huge}", supporter),
            self.delete(f"/me/grants/{huge}", customer),
            self.delete("/me/grants/-1", customer),
            self.delete("/me/grants/abc", customer),
        ):
            with self.subTest(path=response.request["PATH_INFO"]):
                self.assertIn(response.status_code, (404, 422), response.content)
                self.assertEqual(response["Content-Type"], "application/problem+json")
        # A cursor past every entry is merely an empty page.
        page = self.get(f"/me/access-log?cursor={huge}", customer)
        self.assertEqual(page.status_code, 200, page.content)


class ApiDocumentTests(SupportPinTestCase):
    GARBAGE_IDS = ["x", "9" * 30, "-1", "bad%20id", "%00", "a" * 300, "%C3%A4"]
    GARBAGE_BODIES = [
        None,
        "",
        "{",
        "[]",
        "null",
        '"text"',
        "12",
        json.dumps({"a": None}),
        json.dumps({k: 7 for k in ("username", "password", "customer", "pin", "action")}),
        json.dumps({k: ["x"] for k in ("name", "email", "display_name", "role", "type")}),
        json.dumps({k: "\x00" * 3 for k in ("username", "password", "customer", "pin", "name")}),
        json.dumps({"subject": HUGE_STRING, "message": HUGE_STRING, "body": HUGE_STRING}),
        json.dumps({"details": {"deep": [[[[["x"]]]]]}, "products": [None, 1, "x"]}),
    ]
    GARBAGE_QUERIES = ["", "?cursor=abc", "?cursor=99999999999999999999", "?status=x&assignee=y"]

    def test_it_serves_the_openapi_document(self):
        response = self.get("/openapi.json")

        self.assertEqual(response.status_code, 200, response.content)
        paths = response.json()["paths"]
        for expected in ("/api/v1/auth/token", "/api/v1/decisions", "/api/v1/me/support-pin"):
            self.assertIn(expected, paths)

    def test_it_serves_the_interactive_docs(self):
        response = self.client.get("/api/v1/docs")

        self.assertEqual(response.status_code, 200)

    def test_it_serves_the_interactive_docs_under_the_strict_policy_from_its_own_files(self):
        response = self.client.get("/api/v1/docs")

        policy = response["Content-Security-Policy"]
        self.assertIn("script-src 'self'", policy)
        self.assertNotIn("unsafe", policy)
        scripts = re.findall(r'<script[^>]*src="([^"]+)"', response.content.decode())
        self.assertTrue(scripts)
        for src in scripts:
            self.assertTrue(src.startswith("/static/"), src)

    def test_it_never_answers_garbage_with_a_server_error(self):
        token = self.token_for(self.supporter)
        sent, reached, errors = 0, 0, []
        for method, path in self.operations():
            for query in self.GARBAGE_QUERIES if method == "GET" else [""]:
                for raw in self.GARBAGE_BODIES if method in ("POST", "PUT", "PATCH") else [None]:
                    response = self.call(method, path + query, token=token, raw=raw)
                    sent += 1
                    reached += response.status_code not in (401, 403)
                    if response.status_code >= 500:
                        errors.append(f"{method} {path}{query} {raw!r:.80}")
        self.assertFalse(errors, "\n".join(errors))
        self.assertGreater(sent, 500)
        self.assertGreater(reached, 300, "the supporter's token must stay valid throughout")

    def test_it_never_answers_garbage_with_a_server_error_whoever_sends_it(self):
        tokens = [self.token_for(self.customer), self.token_for(self.admin), self.api_key, None]
        bodies = [self.GARBAGE_BODIES[i] for i in (2, 3, 8, 9, 10)]
        errors = []
        for token in tokens:
            for method, path in self.operations(ids=["9" * 30, "%00", "bad%20id"]):
                for raw in bodies if method in ("POST", "PUT") else [None]:
                    response = self.call(method, path + "?cursor=x", token=token, raw=raw)
                    if response.status_code >= 500:
                        errors.append(f"{token!s:.3} {method} {path} {raw!r:.80}")
        self.assertFalse(errors, "\n".join(errors))

    def operations(self, ids: list[str] | None = None) -> list[tuple[str, str]]:
        """Every operation of the OpenAPI document, once per garbage path parameter."""
        paths = self.get("/openapi.json").json()["paths"]
        self.assertGreater(len(paths), 10)
        operations = []
        for template, methods in paths.items():
            relative = template.removeprefix("/api/v1")
            garbage = (ids or self.GARBAGE_IDS) if "{" in template else ["-"]
            for method in methods:
                if method not in ("get", "post", "put", "patch", "delete"):
                    continue
                if (method, relative) == ("delete", "/auth/token"):
                    continue  # signing out would leave the rest of the run unauthenticated
                for bad_id in garbage:
                    operations.append((method.upper(), re.sub(r"\{[^}]+\}", bad_id, relative)))
        return operations
