from django.db import models
from django.db.models import Q

from supportpin.accounts.models import Customer, Staff
from supportpin.lib.hashing import keyed_digest


class EndReason(models.TextChoices):
    EXPIRED = "expired"
    ROTATED = "rotated"
    REVOKED = "revoked"
    DEACTIVATED = "deactivated"
    TOO_MANY_FAILURES = "too_many_failures"
    SUPPORTER_DISABLED = "supporter_disabled"
    RELEASED = "released"
    TICKET_CLOSED = "ticket_closed"
    TICKET_AUTOCLOSED = "ticket_autoclosed"
    TICKET_LOCKED = "ticket_locked"


class SupportPin(models.Model):
    """A customer's Support-PIN.

    The PIN itself is never stored: it is derived from `seed` with a key that lives outside the
    database, so a copy of the database reveals no usable PIN while the customer can still be
    shown theirs again.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="support_pins")
    seed = models.CharField(max_length=64)
    length = models.PositiveSmallIntegerField()
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, choices=EndReason.choices, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    redeemed_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT)
    redeemed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(ended_at__isnull=True), name="one_live_pin"
            )
        ]
        indexes = [
            models.Index(
                fields=["expires_at"], condition=Q(ended_at__isnull=True), name="pin_due_idx"
            )
        ]

    @property
    def pin(self) -> str:
        return derive_pin(self.seed, self.length)

    def is_usable(self, now) -> bool:
        return self.ended_at is None and now < self.expires_at


def derive_pin(seed: str, length: int) -> str:
    """Return the decimal PIN for `seed` (a 256-bit HMAC reduced mod 10**length: bias < 1e-60)."""
    value = int(keyed_digest("support-pin", bytes.fromhex(seed)), 16)
    return str(value % 10**length).zfill(length)


class Basis(models.TextChoices):
    PIN = "pin"
    TICKET = "ticket"


class Grant(models.Model):
    """The right of one supporter to reach one customer's products, from a PIN or a ticket."""

    basis = models.CharField(max_length=8, choices=Basis.choices)
    supporter = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="grants")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="grants")
    pin = models.OneToOneField(
        SupportPin, null=True, blank=True, on_delete=models.CASCADE, related_name="grant"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.CASCADE, related_name="grants"
    )
    started_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, choices=EndReason.choices, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(ended_at__isnull=True), name="one_live_ticket_grant"
            )
        ]
        indexes = [
            # The decision function's one query: live grants of a supporter for a customer.
            models.Index(
                fields=["supporter", "customer"],
                condition=Q(ended_at__isnull=True),
                name="grant_live_idx",
            ),
            models.Index(
                fields=["customer"], condition=Q(ended_at__isnull=True), name="grant_customer_idx"
            ),
        ]

    def is_live(self, now) -> bool:
        """Return whether the grant is alive at `now`, as the one selector decides it."""
        # Imported here: access.access builds on these models, so it cannot be imported above.
        from supportpin.access.access import live_grants

        return live_grants(now).filter(pk=self.pk).exists()


class PinAttempt(models.Model):
    """A wrong PIN entered by a supporter; counts towards their guessing limit."""

    supporter = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="pin_attempts")
    customer_number = models.CharField(max_length=64)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["supporter", "at"], name="attempt_window_idx")]
