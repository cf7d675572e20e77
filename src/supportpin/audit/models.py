from django.db import models
from django.utils.translation import gettext_lazy as _


class Event(models.TextChoices):
    PIN_ISSUED = "pin_issued", _("PIN issued")
    PIN_REDEEMED = "pin_redeemed", _("PIN redeemed")
    PIN_ATTEMPT_FAILED = "pin_attempt_failed", _("Wrong PIN entered")
    PIN_DEACTIVATED = "pin_deactivated", _("PIN deactivated")
    SUPPORTER_BLOCKED = "supporter_blocked", _("Supporter blocked")
    SUPPORTER_UNLOCKED = "supporter_unlocked", _("Supporter unlocked")
    PRODUCTS_LISTED = "products_listed", _("Product list viewed")
    PRODUCT_READ = "product_read", _("Product viewed")
    PRODUCT_ACTION = "product_action", _("Product action")
    ACCESS_DECIDED = "access_decided", _("Access through a panel")
    TICKET_CREATED = "ticket_created", _("Ticket opened")
    TICKET_MESSAGE = "ticket_message", _("Customer message")
    TICKET_REPLIED = "ticket_replied", _("Supporter reply")
    TICKET_CLAIMED = "ticket_claimed", _("Ticket taken over")
    TICKET_RELEASED = "ticket_released", _("Ticket released")
    TICKET_CLOSED = "ticket_closed", _("Ticket closed")
    TICKET_REOPENED = "ticket_reopened", _("Ticket reopened")
    TICKET_AUTO_CLOSED = "ticket_auto_closed", _("Ticket closed after inactivity")
    TICKET_LOCKED = "ticket_locked", _("Ticket locked")
    STAFF_CREATED = "staff_created", _("Staff account created")
    STAFF_DISABLED = "staff_disabled", _("Staff account disabled")
    STAFF_ENABLED = "staff_enabled", _("Staff account enabled")
    STAFF_PASSWORD_CHANGED = "staff_password_changed", _("Staff password changed")
    STAFF_SESSIONS_ENDED = "staff_sessions_ended", _("Staff sessions ended")
    STAFF_PASSWORD_RESET = "staff_password_reset", _("Staff password reset by an admin")
    STAFF_SECOND_FACTOR_RESET = "staff_second_factor_reset", _("Staff second factor reset")
    STAFF_SIGNED_IN = "staff_signed_in", _("Staff member signed in")
    STAFF_API_TOKEN_CREATED = "staff_api_token_created", _("API token created")
    PASSKEY_ADDED = "passkey_added", _("Passkey added")
    PASSKEY_REMOVED = "passkey_removed", _("Passkey removed")
    SIGN_IN_LINK_CREATED = "sign_in_link_created", _("Sign-in link created by the panel")
    SIGNED_IN_WITH_LINK = "signed_in_with_link", _("Signed in through the panel")
    CUSTOMER_PASSWORD_RESET = "customer_password_reset", _("Password reset by e-mail")


class ActorKind(models.TextChoices):
    CUSTOMER = "customer"
    SUPPORTER = "supporter"
    ADMIN = "admin"
    INTEGRATION = "integration"
    SYSTEM = "system"


class AuditEntry(models.Model):
    """One entry of the append-only access log, a leaf of its Merkle tree once sealed.

    Entries copy names and ids instead of pointing at rows, so they stay readable and verifiable
    whatever later happens to the customer, supporter or product.
    """

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
    # The entry's place in the tree, given by the sealer; null until then.
    leaf_index = models.BigIntegerField(null=True, blank=True, unique=True)

    class Meta:
        indexes = [
            # The customer's log, newest first by the moment each entry happened.
            models.Index(fields=["customer", "-at", "-id"], name="audit_customer_time_idx"),
            # The sealer's work list: entries not yet in the tree, oldest first.
            models.Index(
                fields=["id"],
                condition=models.Q(leaf_index__isnull=True),
                name="audit_unsealed_idx",
            ),
        ]


class LogTile(models.Model):
    """One C2SP tlog-tiles hash tile of the log's tree, at the width the newest tree gives it.

    A partial tile is a prefix of the full tile it grows into, so one row per (level, index)
    serves every tree size: a reader cuts it to the width its size needs.
    """

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    data = models.BinaryField()
    # The hashes of the seven Merkle levels inside the tile (merkle.tile_inner), written with
    # `data`: proofs read them instead of hashing. Checked against `data` by verifyaudit.
    inner = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["level", "index"], name="audit_tile_unique"),
        ]


class LogCheckpoint(models.Model):
    """A signed checkpoint of the log: the tree size and root hash, as a C2SP signed note."""

    size = models.BigIntegerField(unique=True)
    root_hash = models.BinaryField(max_length=32)
    note = models.TextField()
    created_at = models.DateTimeField()


class LogCosignature(models.Model):
    """A witness's cosignature of a checkpoint (C2SP tlog-cosignature), served with it."""

    checkpoint = models.ForeignKey(
        LogCheckpoint, on_delete=models.CASCADE, related_name="cosignatures"
    )
    # The witness's key name; its newest cosigned size is the `old` size of the next submission.
    witness = models.CharField(max_length=255)
    # The signature line exactly as the witness sent it, already verified with its key.
    line = models.TextField()
    signed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["witness", "checkpoint"], name="audit_cosignature_unique"
            ),
        ]
