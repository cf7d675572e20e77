"""Settings for Support-PIN, read from the environment (see README "Configuration")."""

import ipaddress
import re
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from supportpin.lib.logs import FORMATS, logging_config
from supportpin.lib.rates import parse_rate

env = environ.Env()

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(env.str("SUPPORTPIN_VAR_DIR", default="var")).resolve()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=1 for a local development key).")
    SECRET_KEY = "supportpin-development-key-not-for-production"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
# Behind a load balancer that ends TLS: trust its X-Forwarded-Proto, so Django sees HTTPS
# (secure cookies, CSRF origin checks). Only set this when the proxy always sends the header.
if env.bool("SUPPORTPIN_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The reverse proxies (addresses or networks) whose X-Forwarded-For names the client, e.g.
# 127.0.0.1 for nginx on the same host. Without it, every client behind the proxy is the proxy,
# and one client's failed sign-ins would throttle everybody's.
try:
    SUPPORTPIN_TRUSTED_PROXIES = [
        ipaddress.ip_network(network, strict=False)
        for network in env.list("SUPPORTPIN_TRUSTED_PROXIES", default=[])
    ]
except ValueError as error:
    raise ImproperlyConfigured(f"SUPPORTPIN_TRUSTED_PROXIES: {error}") from error
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    "ninja",
    "supportpin.accounts",
    "supportpin.products",
    "supportpin.access",
    "supportpin.audit",
    "supportpin.notify",
    "supportpin.tickets",
    # Operating the service (the worker): above the domain apps it drives.
    "supportpin.ops",
    "supportpin.api",
    "supportpin.web",
]

MIDDLEWARE = [
    # First: the request line and metrics cover every answer, the probes' and redirects' too.
    "supportpin.ops.middleware.RequestLog",
    "supportpin.ops.middleware.OperationsEndpoints",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "supportpin.api.problems.ProblemResponsesMiddleware",
    "supportpin.web.session.StaffSessionMiddleware",
]

ROOT_URLCONF = "supportpin.urls"
WSGI_APPLICATION = "supportpin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csrf",
                "supportpin.web.session.principal",
            ],
        },
    }
]


def _database() -> dict:
    url = env.str("DATABASE_URL", default="")
    if not url:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{VAR_DIR / 'supportpin.sqlite3'}"
    config = env.db_url_config(url)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock when a
        # transaction starts, so parallel requests wait (busy timeout) instead of failing
        # half-way with "database is locked".
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    if config["ENGINE"] == "django.db.backends.postgresql":
        options = config.setdefault("OPTIONS", {})
        # Start every session in UTC, the zone Django works in: otherwise a server set to
        # another zone (even "Etc/UTC") costs a set_config('TimeZone') round trip per connection.
        options.setdefault("options", "-c TimeZone=UTC")
        # Values travel apart from the SQL (the extended protocol), so psycopg does not quote
        # each one into the statement text in Python: audited requests, which send more
        # statements than the floor, gained most (bench/audited_throughput.py). Statements
        # stay unnamed (Django leaves prepare_threshold off), except lib.prepared's with
        # SUPPORTPIN_DB_PREPARE.
        options["server_side_binding"] = True
        if env.bool("SUPPORTPIN_DB_POOL", default=True):
            # Each app process keeps its connections open and lends them to requests: a new
            # connection per request cost 7.4 ms of database CPU. Requests wait up to
            # `timeout` seconds for a free one; size the pool to the threads of a process.
            options["pool"] = {
                "min_size": 2,
                "max_size": env.int("SUPPORTPIN_DB_POOL_MAX", default=20),
                "timeout": 10,
            }
            # Django's pool hands out connections itself; it refuses persistent ones.
            config["CONN_MAX_AGE"] = 0
        # Test a connection before a request uses it (the pool: before lending it), so one
        # dropped by a database restart is replaced instead of failing a request.
        config["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
    config.setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
    config["ATOMIC_REQUESTS"] = False
    return config


DATABASES = {"default": _database()}
# PostgreSQL: the server prepares the busiest queries (lib.prepared) once per connection. A
# prepared statement lives in its connection, so this pays off where connections are kept (the
# pool) and must be off behind PgBouncer in transaction mode before 1.21.
SUPPORTPIN_DB_PREPARE = env.bool(
    "SUPPORTPIN_DB_PREPARE", default="pool" in DATABASES["default"].get("OPTIONS", {})
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }

PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="support-pin@localhost")
# Seconds an SMTP connection may stall before the send fails: a send must end within the
# outbox lease (SUPPORTPIN_OUTBOX_LEASE_SECONDS), or another worker would send it again.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

LANGUAGE_CODE = "de"
LANGUAGES = [("de", "Deutsch"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Berlin")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Attachments go through the default storage: local files under MEDIA_ROOT, or an
# S3-compatible bucket when SUPPORTPIN_S3_BUCKET is set (django-storages, `pip install .[s3]`).
MEDIA_ROOT = env.path("SUPPORTPIN_MEDIA_ROOT", default=VAR_DIR / "media")
S3_BUCKET = env.str("SUPPORTPIN_S3_BUCKET", default="")
DEFAULT_STORAGE = (
    {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env.str("SUPPORTPIN_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("SUPPORTPIN_S3_REGION", default="") or None,
            "access_key": env.str("SUPPORTPIN_S3_ACCESS_KEY", default="") or None,
            "secret_key": env.str("SUPPORTPIN_S3_SECRET_KEY", default="") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
    if S3_BUCKET
    else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
)
STORAGES = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Served straight from the package, so a server works before (or without) collectstatic;
# after `supportpin collectstatic` the compressed copies are served too.
WHITENOISE_USE_FINDERS = True

# Sessions of the web UI. Staff sessions also end after 12 h and after 60 min idle
# (supportpin.web.session); customers' after 12 h.
SESSION_COOKIE_AGE = 12 * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SUPPORTPIN_STAFF_SESSION_HOURS = 12
SUPPORTPIN_STAFF_IDLE_MINUTES = env.int("SUPPORTPIN_STAFF_IDLE_MINUTES", default=60)
LOGIN_URL = "/login/"
# Forward auth (docs/forward-auth.md): set to a parent domain such as ".example.com" so the staff
# session cookie also reaches the admin tools guarded by Support-PIN on sibling hosts.
SESSION_COOKIE_DOMAIN = env.str("SESSION_COOKIE_DOMAIN", default="") or None

# Strict CSP: every script and style is a file served by the app, the API's docs page too
# (django-ninja's Swagger UI, served from the ninja package's static files, not a CDN).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    },
}

# Sign-in throttling (supportpin.accounts.throttle) counts failures where all app processes see
# them: in Redis when REDIS_URL is set (this names its cache), else in the database.
SUPPORTPIN_SIGN_IN_CACHE = "default" if REDIS_URL else ""
SUPPORTPIN_SIGN_IN_RATE = env.str("SUPPORTPIN_SIGN_IN_RATE", default="10/5m")
# Requests for a password reset e-mail, each counted per client address and per e-mail address.
SUPPORTPIN_PASSWORD_RESET_RATE = env.str("SUPPORTPIN_PASSWORD_RESET_RATE", default="5/1h")
# Checked here, so a wrong rate stops the service at start-up instead of failing every sign-in.
for _rate_setting in ("SUPPORTPIN_SIGN_IN_RATE", "SUPPORTPIN_PASSWORD_RESET_RATE"):
    try:
        parse_rate(vars()[_rate_setting])
    except ValueError as error:
        raise ImproperlyConfigured(f"{_rate_setting}: {error}") from error
# Seconds a password link (a customer's reset, or the one an admin's reset sends a supporter)
# stays good; choosing the new password spends it at once.
PASSWORD_RESET_TIMEOUT = env.int("SUPPORTPIN_PASSWORD_LINK_MINUTES", default=60) * 60

SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
# The language choice rides along like the session cookie: only over TLS, never cross-site,
# and out of reach of scripts (nothing in the pages reads it).
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# One JSON object per line (SUPPORTPIN_LOG_FORMAT=console: readable lines, the DEBUG default).
SUPPORTPIN_LOG_FORMAT = env.str("SUPPORTPIN_LOG_FORMAT", default="console" if DEBUG else "json")
if SUPPORTPIN_LOG_FORMAT not in FORMATS:
    raise ImproperlyConfigured(f"SUPPORTPIN_LOG_FORMAT must be one of {', '.join(FORMATS)}.")
LOGGING = logging_config(
    log_format=SUPPORTPIN_LOG_FORMAT, level=env.str("LOG_LEVEL", default="INFO")
)

# --- Support-PIN policy (DESIGN.md; the defaults are the product) ---
SUPPORTPIN_PIN_TTL_MINUTES = env.int("SUPPORTPIN_PIN_TTL_MINUTES", default=60)
SUPPORTPIN_PIN_LENGTH = env.int("SUPPORTPIN_PIN_LENGTH", default=6)
if not 4 <= SUPPORTPIN_PIN_LENGTH <= 10:
    raise ImproperlyConfigured("SUPPORTPIN_PIN_LENGTH must be between 4 and 10.")
SUPPORTPIN_PIN_MAX_FAILURES = env.int("SUPPORTPIN_PIN_MAX_FAILURES", default=5)
SUPPORTPIN_SUPPORTER_MAX_FAILURES = env.int("SUPPORTPIN_SUPPORTER_MAX_FAILURES", default=10)
SUPPORTPIN_SUPPORTER_FAILURE_WINDOW_HOURS = env.int(
    "SUPPORTPIN_SUPPORTER_FAILURE_WINDOW_HOURS", default=24
)
SUPPORTPIN_TICKET_AUTOCLOSE_DAYS = env.int("SUPPORTPIN_TICKET_AUTOCLOSE_DAYS", default=14)
SUPPORTPIN_TICKET_LOCK_DAYS = env.int("SUPPORTPIN_TICKET_LOCK_DAYS", default=30)
# Files on one ticket message: how many, and how large each may be.
SUPPORTPIN_ATTACHMENTS_PER_MESSAGE = env.int("SUPPORTPIN_ATTACHMENTS_PER_MESSAGE", default=5)
SUPPORTPIN_ATTACHMENT_MAX_BYTES = env.int("SUPPORTPIN_ATTACHMENT_MAX_BYTES", default=10 * 2**20)
SUPPORTPIN_STAFF_TOKEN_HOURS = min(env.int("SUPPORTPIN_STAFF_TOKEN_HOURS", default=12), 12)
SUPPORTPIN_CUSTOMER_TOKEN_HOURS = env.int("SUPPORTPIN_CUSTOMER_TOKEN_HOURS", default=24)
# Off: customers sign in only through one-time links from the provider's panel, whose address
# the sign-in page then shows.
SUPPORTPIN_CUSTOMER_PASSWORDS = env.bool("SUPPORTPIN_CUSTOMER_PASSWORDS", default=True)
SUPPORTPIN_CUSTOMER_PANEL_URL = env.str("SUPPORTPIN_CUSTOMER_PANEL_URL", default="")
# The address customers reach this app at, for sign-in links; default: the API request's host.
SUPPORTPIN_PUBLIC_URL = env.str("SUPPORTPIN_PUBLIC_URL", default="")
SUPPORTPIN_ADMIN_EMAILS = env.list("SUPPORTPIN_ADMIN_EMAILS", default=[])
SUPPORTPIN_ACTION_WEBHOOK_URL = env.str("SUPPORTPIN_ACTION_WEBHOOK_URL", default="")
SUPPORTPIN_ACTION_WEBHOOK_SECRET = env.str("SUPPORTPIN_ACTION_WEBHOOK_SECRET", default="")
# Grant events (grant.started / grant.ended) for just-in-time access in the provider's tools;
# none are queued while the URL is empty.
SUPPORTPIN_EVENTS_WEBHOOK_URL = env.str("SUPPORTPIN_EVENTS_WEBHOOK_URL", default="")
SUPPORTPIN_EVENTS_WEBHOOK_SECRET = env.str("SUPPORTPIN_EVENTS_WEBHOOK_SECRET", default="")
SUPPORTPIN_PRODUCT_ACTIONS = env.list(
    "SUPPORTPIN_PRODUCT_ACTIONS", default=["start", "stop", "restart", "reinstall"]
)
SUPPORTPIN_OUTBOX_MAX_ATTEMPTS = env.int("SUPPORTPIN_OUTBOX_MAX_ATTEMPTS", default=20)
SUPPORTPIN_OUTBOX_LEASE_SECONDS = env.int("SUPPORTPIN_OUTBOX_LEASE_SECONDS", default=300)
# Sent messages are deleted this many days after sending (the worker's housekeeping).
SUPPORTPIN_OUTBOX_KEEP_DAYS = env.int("SUPPORTPIN_OUTBOX_KEEP_DAYS", default=30)


def _forward_auth_routes() -> list[re.Pattern]:
    # Separated by whitespace, not commas: regular expressions contain commas ({1,64}).
    routes = []
    for pattern in env.str("SUPPORTPIN_FORWARD_AUTH_ROUTES", default="").split():
        try:
            route = re.compile(pattern)
        except re.error as error:
            raise ImproperlyConfigured(
                f"SUPPORTPIN_FORWARD_AUTH_ROUTES: {pattern!r} is no regular expression: {error}."
            ) from error
        if "product" not in route.groupindex:
            raise ImproperlyConfigured(
                f"SUPPORTPIN_FORWARD_AUTH_ROUTES: {route.pattern!r} has no (?P<product>...) group."
            )
        routes.append(route)
    return routes


# Matched from the start of the proxied URL's path; the first match names the product.
SUPPORTPIN_FORWARD_AUTH_ROUTES = _forward_auth_routes()

# Product actions the web UI asks a supporter to confirm first (they cannot be undone).
SUPPORTPIN_CONFIRM_PRODUCT_ACTIONS = env.list(
    "SUPPORTPIN_CONFIRM_PRODUCT_ACTIONS", default=["stop", "reinstall"]
)
# --- Staff sign-in through the provider's OpenID Connect identity provider (README) ---
# Off while the issuer is empty. Staff must exist already (synced through the API): the identity
# provider never creates accounts or roles.
SUPPORTPIN_OIDC_ISSUER = env.str("SUPPORTPIN_OIDC_ISSUER", default="").rstrip("/")
SUPPORTPIN_OIDC_CLIENT_ID = env.str("SUPPORTPIN_OIDC_CLIENT_ID", default="")
SUPPORTPIN_OIDC_CLIENT_SECRET = env.str("SUPPORTPIN_OIDC_CLIENT_SECRET", default="")
SUPPORTPIN_OIDC_NAME = env.str("SUPPORTPIN_OIDC_NAME", default="Single Sign-On")
# The ID token claim that holds the Support-PIN username.
SUPPORTPIN_OIDC_USERNAME_CLAIM = env.str(
    "SUPPORTPIN_OIDC_USERNAME_CLAIM", default="preferred_username"
)
# The `amr` values (or the `acr` value) that show the identity provider asked for a second
# factor; without one of them our TOTP code follows.
SUPPORTPIN_OIDC_MFA = env.list("SUPPORTPIN_OIDC_MFA", default=[])
# Staff sign in only through the identity provider: no password form, no staff password sign-in
# in the API (scripts use tokens from the "API tokens" page).
SUPPORTPIN_OIDC_ONLY = env.bool("SUPPORTPIN_OIDC_ONLY", default=False)
if SUPPORTPIN_OIDC_ISSUER and not (SUPPORTPIN_OIDC_CLIENT_ID and SUPPORTPIN_OIDC_CLIENT_SECRET):
    raise ImproperlyConfigured(
        "SUPPORTPIN_OIDC_ISSUER needs SUPPORTPIN_OIDC_CLIENT_ID and SUPPORTPIN_OIDC_CLIENT_SECRET."
    )
if SUPPORTPIN_OIDC_ONLY and not SUPPORTPIN_OIDC_ISSUER:
    raise ImproperlyConfigured("SUPPORTPIN_OIDC_ONLY=1 needs SUPPORTPIN_OIDC_ISSUER.")

# --- Passkeys (WebAuthn) for staff, a second factor next to TOTP (README) ---
# The relying party id: the host name staff open Support-PIN at (never an IP address, which
# WebAuthn refuses), and the origins (scheme://host[:port]) a passkey ceremony may come from.
SUPPORTPIN_WEBAUTHN_RP_ID = env.str("SUPPORTPIN_WEBAUTHN_RP_ID", default="localhost")
SUPPORTPIN_WEBAUTHN_ORIGINS = env.list(
    "SUPPORTPIN_WEBAUTHN_ORIGINS",
    default=[f"https://{SUPPORTPIN_WEBAUTHN_RP_ID}"]
    + (["http://localhost:8000"] if SUPPORTPIN_WEBAUTHN_RP_ID == "localhost" else []),
)
# "totp": staff use a passkey or their TOTP code. "passkey": staff must use a passkey; those
# without one register it right after their next sign-in, and the API refuses staff passwords.
SUPPORTPIN_STAFF_2FA = env.str("SUPPORTPIN_STAFF_2FA", default="totp")
if SUPPORTPIN_STAFF_2FA not in ("totp", "passkey"):
    raise ImproperlyConfigured("SUPPORTPIN_STAFF_2FA must be totp or passkey.")

# --- Health, metrics and logs (README "Health, metrics and logs") ---
# Off: no request metrics and /metrics answers 404 (bench/floor.py measures what they cost).
SUPPORTPIN_METRICS = env.bool("SUPPORTPIN_METRICS", default=True)
# /metrics is closed until one of these is set; with both, a scrape must pass both.
SUPPORTPIN_METRICS_TOKEN = env.str("SUPPORTPIN_METRICS_TOKEN", default="")


def _metrics_allow() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for cidr in env.list("SUPPORTPIN_METRICS_ALLOW", default=[]):
        try:
            networks.append(ipaddress.ip_network(cidr.strip()))
        except ValueError as error:
            raise ImproperlyConfigured(f"SUPPORTPIN_METRICS_ALLOW: {error}") from error
    return networks


# Client addresses (CIDRs, comma-separated) that may scrape; the address is the peer's,
# so behind a reverse proxy it is the proxy's: use the token there.
SUPPORTPIN_METRICS_ALLOW = _metrics_allow()
# One line per request (id, method, route, status, duration).
SUPPORTPIN_REQUEST_LOG = env.bool("SUPPORTPIN_REQUEST_LOG", default=True)
# --- Transparency log (docs/architecture.md "Transparency log") ---
# The signer key in Go's note format; its name is the log's origin. Without it the service
# refuses to start (system check audit.E001), unless DEBUG=1 derives a development key.
SUPPORTPIN_LOG_SIGNING_KEY = env.str("SUPPORTPIN_LOG_SIGNING_KEY", default="")
# Verifier keys of earlier signing keys, kept so old checkpoints still verify after a rotation.
SUPPORTPIN_LOG_PUBLIC_KEYS = (
    env.str("SUPPORTPIN_LOG_PUBLIC_KEYS", default="").replace(",", " ").split()
)
# The worker seals new access-log entries into the tree at most this often.
SUPPORTPIN_LOG_SEAL_SECONDS = env.float("SUPPORTPIN_LOG_SEAL_SECONDS", default=5.0)
# Witnesses (C2SP tlog-witness) each new checkpoint is sent to: their submission URL prefixes,
# and in the same order each one's cosignature verifier key (system check audit.E002).
SUPPORTPIN_LOG_WITNESS_URLS = (
    env.str("SUPPORTPIN_LOG_WITNESS_URLS", default="").replace(",", " ").split()
)
SUPPORTPIN_LOG_WITNESS_KEYS = (
    env.str("SUPPORTPIN_LOG_WITNESS_KEYS", default="").replace(",", " ").split()
)
