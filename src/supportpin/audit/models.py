from django.db import models


class Event(models.TextChoices):
    PIN_ISSUED = "pin_issued"
    PIN_REDEEMED = "pin_redeemed"
    PIN_ATTEMPT_FAILED = "pin_attempt_failed"
    PIN_DEACTIVATED = "pin_deactivated"
    SUPPORTER_BLOCKED = "supporter_blocked"
    SUPPORTER_UNLOCKED = "supporter_unlocked"
    PRODUCTS_LISTED = "products_listed"
    PRODUCT_READ = "product_read"
    PRODUCT_ACTION = "product_action"
    ACCESS_DECIDED = "access_decided"
    TICKET_CREATED = "ticket_created"
    TICKET_MESSAGE = "ticket_message"
    TICKET_REPLIED = "ticket_replied"
    TICKET_CLAIMED = "ticket_claimed"
    TICKET_RELEASED = "ticket_released"
    TICKET_CLOSED = "ticket_closed"
    TICKET_REOPENED = "ticket_reopened"
    TICKET_AUTO_CLOSED = "ticket_auto_closed"
    TICKET_LOCKED = "ticket_locked"


class ActorKind(models.TextChoices):
    CUSTOMER = "customer"
    SUPPORTER = "supporter"
    ADMIN = "admin"
    INTEGRATION = "integration"
    SYSTEM = "system"


class AuditEntry(models.Model):
    """One link of the append-only, hash-chained audit log.

    Entries copy names and ids instead of pointing at rows, so they stay readable and verifiable
    whatever later happens to the customer, supporter or product.
    """

    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField()
    event = models.CharField(max_length=32, choices=Event.choices)
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    actor = models.CharField(max_length=100)
    customer = models.CharField(max_length=64, blank=True)
    product = models.CharField(max_length=64, blank=True)
    basis = models.CharField(max_length=8, blank=True)
    grant_id = models.BigIntegerField(null=True, blank=True)
    ticket_id = models.BigIntegerField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["customer", "-seq"], name="audit_customer_idx")]


class AuditHead(models.Model):
    """The chain's newest link; one row, locked by every append so the chain stays a line."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)
