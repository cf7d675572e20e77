"""System checks for the access log's keys: the service does not start without them."""

from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

from supportpin.audit.logkeys import log_verifiers
from supportpin.audit.witnesses import configured_witnesses


@register()
def check_log_keys(app_configs, **kwargs) -> list[Error]:
    """Refuse to start without a usable log signing key, or with a malformed verifier key."""
    try:
        log_verifiers()
    except ImproperlyConfigured as error:
        return [
            Error(
                str(error),
                hint="Create a key with `supportpin genlogkey ORIGIN` (ORIGIN names the log, "
                "e.g. support.example.com/log) and set SUPPORTPIN_LOG_SIGNING_KEY to its signer "
                "key; DEBUG=1 uses a development key derived from SECRET_KEY.",
                id="audit.E001",
            )
        ]
    return []


@register()
def check_log_witnesses(app_configs, **kwargs) -> list[Error]:
    """Refuse witness settings whose URLs and cosignature keys do not pair up."""
    try:
        configured_witnesses()
    except ImproperlyConfigured as error:
        return [
            Error(
                str(error),
                hint="Give SUPPORTPIN_LOG_WITNESS_KEYS one verifier key per URL in "
                "SUPPORTPIN_LOG_WITNESS_URLS, in the same order, as each witness publishes it: "
                "<name>+<8 hex digits>+<base64 of 0x04 and the 32-byte Ed25519 key>.",
                id="audit.E002",
            )
        ]
    return []
