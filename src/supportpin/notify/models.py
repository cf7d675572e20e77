from django.db import models
from django.db.models import F, Q
from django.db.models.fields.json import KeyTransform


class Kind(models.TextChoices):
    EMAIL = "email"
    WEBHOOK = "webhook"  # a product action, to SUPPORTPIN_ACTION_WEBHOOK_URL
    GRANT_EVENT = "grant_event"  # grant.started / grant.ended, to SUPPORTPIN_EVENTS_WEBHOOK_URL
    WITNESS = "witness"  # the log's newest checkpoint, to a witness for its cosignature


class OutboxMessage(models.Model):
    """A notification written in the transaction of the change it reports; the worker sends it."""

    kind = models.CharField(max_length=16, choices=Kind.choices)
    payload = models.JSONField()
    # Optional key for notifications the worker itself queues, so a second pass adds no twin.
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    created_at = models.DateTimeField()
    # While a worker holds the lease, due_at is when the lease runs out, and leased_by is the
    # token only that worker knows: it marks the outcome only if the token is still there.
    due_at = models.DateTimeField()
    leased_by = models.CharField(max_length=32, null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=Q(sent_at__isnull=True, failed_at__isnull=True),
                name="outbox_due_idx",
            ),
            # A product page's recent actions: the product's webhooks, newest first.
            models.Index(
                KeyTransform("product", "payload"),
                F("created_at").desc(),
                condition=Q(kind=Kind.WEBHOOK),
                name="outbox_product_idx",
            ),
            # The worker's housekeeping: sent messages, oldest first.
            models.Index(
                fields=["sent_at"], condition=Q(sent_at__isnull=False), name="outbox_sent_idx"
            ),
        ]
