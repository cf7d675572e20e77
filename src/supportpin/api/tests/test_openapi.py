"""The OpenAPI document tells clients which problems each operation answers, and their shape."""

from testsupport import SupportPinTestCase

PROBLEM = "application/problem+json"


class OpenApiProblemTests(SupportPinTestCase):
    def setUp(self):
        super().setUp()
        self.document = self.get("/openapi.json").json()

    def responses(self, method: str, path: str) -> dict:
        return self.document["paths"]["/api/v1" + path][method]["responses"]

    def problem_statuses(self, method: str, path: str) -> set[int]:
        responses = self.responses(method, path)
        return {int(status) for status, r in responses.items() if PROBLEM in r.get("content", {})}

    def test_it_documents_invalid_input_for_every_operation(self):
        operations = [
            (method, path, operation)
            for path, methods in self.document["paths"].items()
            for method, operation in methods.items()
        ]
        self.assertGreater(len(operations), 30)

        for method, path, operation in operations:
            with self.subTest(f"{method} {path}"):
                invalid = operation["responses"]["422"]
                schema = invalid["content"][PROBLEM]["schema"]
                self.assertEqual(schema, {"$ref": "#/components/schemas/Problem"})
                if operation.get("security"):
                    self.assertIn("401", operation["responses"])
                    self.assertIn("403", operation["responses"])

    def test_it_documents_the_problem_shape_of_rfc_9457(self):
        problem = self.document["components"]["schemas"]["Problem"]

        self.assertEqual(
            set(problem["properties"]), {"type", "title", "status", "detail", "code", "errors"}
        )
        self.assertEqual(set(problem["required"]), {"type", "title", "status", "detail", "code"})

    def test_it_documents_the_problems_each_operation_can_raise(self):
        # From API.md's table of problem codes; 503 anywhere while the database is away.
        expected = {
            ("post", "/auth/token"): {401, 422, 429, 503},
            ("get", "/me"): {401, 403, 422, 503},
            ("post", "/support/pin-redemptions"): {401, 403, 422, 429, 503},
            ("delete", "/me/grants/{grant_id}"): {401, 403, 404, 409, 422, 503},
            ("get", "/support/products/{product_id}"): {401, 403, 404, 422, 503},
            ("post", "/support/tickets/{ticket_id}/claim"): {401, 403, 404, 409, 422, 503},
            ("post", "/support/tickets/{ticket_id}/messages"): {401, 403, 404, 409, 422, 503},
            ("post", "/me/tickets/{ticket_id}/close"): {401, 403, 404, 409, 422, 503},
            ("post", "/staff/{username}/unlock"): {401, 403, 404, 422, 503},
        }
        for (method, path), statuses in expected.items():
            with self.subTest(f"{method} {path}"):
                self.assertEqual(self.problem_statuses(method, path), statuses)

    def test_it_documents_the_problem_a_signed_in_client_actually_gets(self):
        # A customer's token on a supporter's endpoint: the documented 403 is what comes back.
        response = self.get("/support/grants", self.token_for(self.customer))

        self.assertProblem(response, 403, "forbidden")
        self.assertIn(403, self.problem_statuses("get", "/support/grants"))
