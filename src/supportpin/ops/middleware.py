"""The request line and metrics of every request, and the endpoints for probes and Prometheus."""

import ipaddress
import re
import time
import uuid
from collections.abc import Callable

import structlog
from django.conf import settings
from django.http import HttpRequest, HttpResponse

from supportpin.lib.hashing import same
from supportpin.ops.health import unready
from supportpin.ops.metrics import METHODS, exposition, observe_request

log = structlog.get_logger("supportpin.request")

# An id a proxy in front may send along, so its log lines and ours share it; anything else
# (too long, spaces, quotes, line breaks) is replaced by a fresh one.
INCOMING_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok\n", content_type="text/plain")


def readyz(request: HttpRequest) -> HttpResponse:
    missing = unready()
    if missing:
        # The reason goes to the log, not to whoever asks.
        log.warning("not ready", missing=missing)
        return HttpResponse("not ready\n", content_type="text/plain", status=503)
    return HttpResponse("ready\n", content_type="text/plain")


def metrics(request: HttpRequest) -> HttpResponse:
    if not settings.SUPPORTPIN_METRICS:
        return HttpResponse("not found\n", content_type="text/plain", status=404)
    refusal = _metrics_refusal(request)
    if refusal is not None:
        return refusal
    return HttpResponse(exposition(), content_type=PROMETHEUS_TEXT)


def _metrics_refusal(request: HttpRequest) -> HttpResponse | None:
    token, allowed = settings.SUPPORTPIN_METRICS_TOKEN, settings.SUPPORTPIN_METRICS_ALLOW
    # Closed unless configured: metrics name routes and volumes, which are not for everyone.
    if not token and not allowed:
        return HttpResponse("forbidden\n", content_type="text/plain", status=403)
    if allowed and not _address_allowed(request.META.get("REMOTE_ADDR", ""), allowed):
        return HttpResponse("forbidden\n", content_type="text/plain", status=403)
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not same(given.strip(), token):
            refused = HttpResponse("unauthorized\n", content_type="text/plain", status=401)
            refused["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return refused
    return None


def _address_allowed(remote: str, allowed: list) -> bool:
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:  # a Unix socket has no address
        return False
    return any(address in network for network in allowed)


ENDPOINTS: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz": healthz,
    "/readyz": readyz,
    "/metrics": metrics,
}


class OperationsEndpoints:
    """Answer /healthz, /readyz and /metrics ahead of host checks, HTTPS redirects and sessions.

    Probes and scrapers ask by the node's own address over plain HTTP, which ALLOWED_HOSTS and
    SECURE_SSL_REDIRECT would turn away.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        endpoint = ENDPOINTS.get(request.path_info)
        if endpoint is None:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            refused = HttpResponse("method not allowed\n", content_type="text/plain", status=405)
            refused["Allow"] = "GET, HEAD"
            return refused
        return endpoint(request)


class RequestLog:
    """Give each request an id (sent back as X-Request-ID); log and count it by route."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if INCOMING_ID.fullmatch(incoming) else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        seconds = time.perf_counter() - started
        route = _route(request)
        # Whatever method a client makes up is "other", so neither labels nor lines grow with it.
        method = request.method if request.method in METHODS else "other"
        if settings.SUPPORTPIN_METRICS:
            observe_request(
                method=method,
                route=route,
                status=response.status_code,
                seconds=seconds,
            )
        if settings.SUPPORTPIN_REQUEST_LOG:
            log.info(
                "request",
                method=method,
                route=route,
                status=response.status_code,
                duration_ms=round(seconds * 1000, 1),
            )
        structlog.contextvars.clear_contextvars()
        response["X-Request-ID"] = request_id
        return response


def _route(request: HttpRequest) -> str:
    """Name the URL pattern that answered, never the path (which holds customer numbers)."""
    match = request.resolver_match
    if match is not None:
        return "/" + match.route
    if request.path_info in ENDPOINTS:
        return request.path_info
    if request.path_info.startswith("/" + settings.STATIC_URL):
        return "static"
    return "unmatched"
