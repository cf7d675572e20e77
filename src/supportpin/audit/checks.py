"""System checks for the access log's keys: the service does not start without them."""

from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

from supportpin.audit.logkeys import log_verifiers


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
