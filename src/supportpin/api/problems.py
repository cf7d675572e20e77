"""Render every error of the API as RFC 9457 problem details."""

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from supportpin.lib.problems import DATABASE_AWAY, RETRY_AFTER_SECONDS, Problem

log = logging.getLogger(__name__)

TYPE_BASE = "https://support-pin.dev/problems/"
TITLES = {
    400: ("bad_request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    413: ("too_large", "Request too large"),
    422: ("invalid", "Invalid input"),
    429: ("throttled", "Too many requests"),
    500: ("internal", "Internal error"),
    503: ("unavailable", "Service briefly unavailable"),
}


# What each status means to a client, in the OpenAPI document; `code` tells the cases apart.
DOCUMENTED = {
    401: "Not signed in: no token, a dead token, or wrong credentials (`code`).",
    403: "Signed in, but not allowed here: the wrong role, or what `code` names.",
    404: "Not found, or not yours to see (the same answer for both).",
    409: "Refused in the resource's present state; `code` names it (e.g. `ticket_locked`).",
    422: "Invalid input: `code` is `invalid` and `errors` names each bad field.",
    429: "Too many attempts; wait, or (for `too_many_attempts`) ask an admin to unlock you.",
    503: "The database is briefly unavailable (a restart, a failover); retry after Retry-After.",
}
PROBLEM_SCHEMA = {
    "title": "Problem",
    "description": "RFC 9457 problem details.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "stable, for programs (see API.md)"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}


def document_problems(schema: dict, raised: dict[str, tuple[int, ...]]) -> None:
    """Add the problem responses to each operation of the OpenAPI `schema`.

    Every operation may answer 422 and 503; one behind a token 401 and 403; `raised` adds the
    rest per operation, keyed "METHOD /path" as in the schema.
    """
    schema["components"]["schemas"]["Problem"] = PROBLEM_SCHEMA
    content = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            statuses = {422, 503, *raised.get(f"{method.upper()} {path}", ())}
            if operation.get("security"):
                statuses |= {401, 403}
            for status in sorted(statuses):
                operation["responses"][status] = {
                    "description": DOCUMENTED[status],
                    "content": content,
                }


def problem_response(
    status: int, code: str, title: str, detail: str, errors: list[dict] | None = None
) -> JsonResponse:
    body = {"type": TYPE_BASE + code, "title": title, "status": status, "detail": detail}
    body["code"] = code
    if errors is not None:
        body["errors"] = errors
    return JsonResponse(body, status=status, content_type="application/problem+json")


def _problem(status: int, detail: str, errors: list[dict] | None = None) -> JsonResponse:
    code, title = TITLES.get(status, ("error", "Error"))
    return problem_response(status, code, title, detail, errors)


def _validation_errors(exc: ValidationError) -> list[dict]:
    errors = []
    for error in exc.errors:
        # Drop the "body"/"query"/"path" prefix ninja adds and never echo the input back.
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "payload")]
        errors.append({"field": ".".join(location), "message": error.get("msg", "invalid")})
    return errors


def install(api: NinjaAPI) -> None:
    """Register the problem-details handlers on `api`."""

    @api.exception_handler(Problem)
    def domain_problem(request: HttpRequest, exc: Problem):
        return problem_response(exc.status, exc.code, exc.title, exc.detail, exc.errors)

    @api.exception_handler(ValidationError)
    def invalid(request: HttpRequest, exc: ValidationError):
        errors = _validation_errors(exc)
        return _problem(422, "The request is not valid.", errors)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError):
        detail = "Send a valid token as `Authorization: Bearer <token>`."
        return _problem(401, detail)

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError):
        if exc.status_code == 400:
            # django-ninja's "Cannot parse request body": malformed input like any other.
            errors = [{"field": "body", "message": str(exc)}]
            return _problem(422, "The request body is not valid JSON.", errors)
        return _problem(exc.status_code, str(exc))

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404):
        return _problem(404, "Not found.")

    @api.exception_handler(RequestDataTooBig)
    def too_big(request: HttpRequest, exc: RequestDataTooBig):
        return _problem(413, "The request body is too large.")

    def database_away(request: HttpRequest, exc: Exception):
        log.warning("database unavailable in %s %s: %s", request.method, request.path, exc)
        return unavailable()

    for error in DATABASE_AWAY:
        api.exception_handler(error)(database_away)

    @api.exception_handler(Exception)
    def unexpected(request: HttpRequest, exc: Exception):
        log.exception("unhandled error in %s %s", request.method, request.path)
        detail = "Something went wrong on our side; nothing was changed."
        return _problem(500, detail)


def unavailable() -> JsonResponse:
    detail = "The database is briefly unavailable; nothing was changed. Try again shortly."
    response = _problem(503, detail)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class ProblemResponsesMiddleware:
    """Answer API requests that never reach a handler (unknown path, wrong method) as problems."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith("/api/") or response.status_code not in (404, 405, 503):
            return response
        if response.get("Content-Type", "").startswith("application/problem+json"):
            return response
        if response.status_code == 404:
            return _problem(404, "Not found.")
        if response.status_code == 503:  # the database failed before the API was reached
            return unavailable()
        problem = _problem(405, f"Use one of: {response.get('Allow', '')}.")
        problem["Allow"] = response.get("Allow", "")
        return problem
