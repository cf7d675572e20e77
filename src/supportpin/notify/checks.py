"""System checks for delivery settings (`supportpin check --deploy`)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register

from supportpin.notify.delivery import ENDPOINTS
from supportpin.notify.models import Kind

# What stays undelivered while an endpoint has a URL but no secret, and the check's id.
UNSIGNED = {
    Kind.WEBHOOK: ("product-action webhook", "notify.W001"),
    Kind.GRANT_EVENT: ("grant event", "notify.W002"),
}


@register(Tags.security, deploy=True)
def check_webhook_secret(app_configs, **kwargs) -> list[Warning]:
    """Warn for each webhook endpoint that has a URL but no secret to sign with."""
    warnings = []
    for kind, (url_setting, secret_setting) in ENDPOINTS.items():
        if getattr(settings, url_setting) and not getattr(settings, secret_setting):
            what, check_id = UNSIGNED[kind]
            warnings.append(
                Warning(
                    f"{url_setting} is set but {secret_setting} is not.",
                    hint="Set the secret the receiver verifies signatures with: until then no "
                    f"{what} is sent (they stay in the outbox and are retried).",
                    id=check_id,
                )
            )
    return warnings
