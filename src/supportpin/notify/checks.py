"""System checks for delivery settings (`supportpin check --deploy`)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_webhook_secret(app_configs, **kwargs) -> list[Warning]:
    """Warn when webhooks have a URL but no secret to sign them with."""
    if settings.SUPPORTPIN_ACTION_WEBHOOK_URL and not settings.SUPPORTPIN_ACTION_WEBHOOK_SECRET:
        return [
            Warning(
                "SUPPORTPIN_ACTION_WEBHOOK_URL is set but SUPPORTPIN_ACTION_WEBHOOK_SECRET is not.",
                hint="Set the secret the receiver verifies signatures with: until then no "
                "product-action webhook is sent (they stay in the outbox and are retried).",
                id="notify.W001",
            )
        ]
    return []
