import re
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q

from supportpin.accounts.models import Customer, Staff
from supportpin.lib.prepared import Param
from supportpin.products.models import Product


class Status(models.TextChoices):
    OPEN = "open"  # waiting for support
    ANSWERED = "answered"  # a supporter replied, waiting for the customer
    CLOSED = "closed"


class CloseReason(models.TextChoices):
    CUSTOMER = "customer"
    SUPPORTER = "supporter"
    INACTIVITY = "inactivity"


def autoclose_age() -> timedelta:
    return timedelta(days=settings.SUPPORTPIN_TICKET_AUTOCLOSE_DAYS)


# How long before an auto-close both sides are told, so one of them can still answer.
AUTOCLOSE_NOTICE = timedelta(days=2)


def lock_age() -> timedelta:
    return timedelta(days=settings.SUPPORTPIN_TICKET_LOCK_DAYS)


# The time rules of a ticket, in SQL. `Ticket.autocloses_at`, `locks_at`, `status_at`,
# `is_locked` and `is_live` are the same rules in Python: a deadline has come when
# `now >= deadline`, so in SQL the stored timestamp is `<= now - age`. `via` is the path
# from the queried model to the ticket (e.g. "ticket__"), so other apps ask the same rules.


def overdue_q(now: datetime, *, via: str = "") -> Q:
    """Match tickets closed at `now` by an auto-close nobody has written down yet."""
    cutoff = now - autoclose_age()
    return Q(**{f"{via}status": Status.ANSWERED, f"{via}last_message_at__lte": cutoff})


def lock_due_q(now: datetime, *, via: str = "") -> Q:
    """Match tickets that are locked at `now` (whether or not that is written down)."""
    return Q(**{f"{via}created_at__lte": now - lock_age()})


def live_q(now: datetime | Param, *, via: str = "") -> Q:
    """Match tickets neither closed nor locked at `now`: the negation of both rules above."""
    open_now = Q(**{f"{via}status": Status.OPEN}) | Q(
        **{f"{via}status": Status.ANSWERED, f"{via}last_message_at__gt": now - autoclose_age()}
    )
    return open_now & Q(**{f"{via}created_at__gt": now - lock_age()})


# How PostgreSQL writes each lexeme of a tsvector: quoted (our words hold no quote).
TSVECTOR_LEXEME = re.compile(r"'([^']*)'")


class SearchWordsField(models.TextField):
    """Space-separated search words: a tsvector on PostgreSQL (GIN-indexed), text elsewhere.

    Each word is letters and digits only (tickets.search.words_of), so the text casts to a
    tsvector of exactly those words, without a parser or dictionary, and matches checked
    against the stored tsvector cost no re-parsing.
    """

    def db_type(self, connection):
        return "tsvector" if connection.vendor == "postgresql" else super().db_type(connection)

    def get_placeholder(self, value, compiler, connection):
        return "CAST(%s AS tsvector)" if connection.vendor == "postgresql" else "%s"

    def from_db_value(self, value, expression, connection):
        if connection.vendor == "postgresql" and value:
            return " ".join(TSVECTOR_LEXEME.findall(value))
        return value


class Ticket(models.Model):
    """A customer's support case; its time rules derive from timestamps.

    `status` as stored may lag behind time (an `answered` ticket past its 14 days is closed
    whether or not the worker has written that down): always read it through `status_at(now)`
    and `is_locked(now)`, or the query helpers above (`overdue_q`, `lock_due_q`, `live_q`).
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="tickets")
    subject = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    assignee = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    follows = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups"
    )
    products = models.ManyToManyField(Product, blank=True, related_name="tickets")
    # True when the customer named products: the ticket grant then reaches only those.
    scoped = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    last_message_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=16, choices=CloseReason.choices, blank=True)
    # Written by the worker (or the next change) once the lock age has passed.
    locked_at = models.DateTimeField(null=True, blank=True)
    # When the worker reminds the customer that an answered ticket is about to auto-close.
    remind_at = models.DateTimeField(null=True, blank=True)
    # The distinct words of the subject and every message, for the queue search
    # (tickets.search); never any of the customer's personal data. On PostgreSQL a GIN index
    # covers them (migration 0003).
    search_words = SearchWordsField(default="", editable=False)

    class Meta:
        indexes = [
            models.Index(fields=["-updated_at", "-id"], name="ticket_queue_idx"),
            models.Index(fields=["status", "-updated_at", "-id"], name="ticket_status_idx"),
            models.Index(fields=["assignee", "-updated_at", "-id"], name="ticket_assignee_idx"),
            models.Index(fields=["customer", "-updated_at", "-id"], name="ticket_customer_idx"),
            models.Index(
                fields=["last_message_at"],
                condition=Q(status="answered"),
                name="ticket_autoclose_idx",
            ),
            models.Index(
                fields=["created_at"], condition=Q(locked_at__isnull=True), name="ticket_lock_idx"
            ),
            models.Index(
                fields=["remind_at"], condition=Q(remind_at__isnull=False), name="ticket_remind_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    def autocloses_at(self) -> datetime | None:
        return self.last_message_at + autoclose_age() if self.status == Status.ANSWERED else None

    def autocloses_soon(self, now: datetime) -> datetime | None:
        """Return when the ticket closes by inactivity if that is in the 2 days after `now`."""
        deadline = self.autocloses_at()
        if deadline is None or not deadline - AUTOCLOSE_NOTICE <= now < deadline:
            return None
        return deadline

    def locks_at(self) -> datetime:
        return self.created_at + lock_age()

    def is_locked(self, now: datetime) -> bool:
        return now >= self.locks_at()

    def status_at(self, now: datetime) -> Status:
        deadline = self.autocloses_at()
        if deadline is not None and now >= deadline:
            return Status.CLOSED
        return Status(self.status)

    def closed_by_customer(self) -> bool:
        """Return whether the customer closed the ticket: then only the customer reopens it."""
        return self.status == Status.CLOSED and self.close_reason == CloseReason.CUSTOMER

    def is_live(self, now: datetime) -> bool:
        """Return whether the ticket is neither closed nor locked at `now`."""
        return self.status_at(now) != Status.CLOSED and not self.is_locked(now)


class AuthorRole(models.TextChoices):
    CUSTOMER = "customer"
    SUPPORTER = "supporter"


class Message(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author_role = models.CharField(max_length=16, choices=AuthorRole.choices)
    author_staff = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT)
    body = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_ticket_idx")]

    def __str__(self) -> str:
        return f"message {self.pk} on ticket {self.ticket_id}"


def attachment_path(attachment: "Attachment", filename: str) -> str:
    """Store under a random name: the customer's file name never reaches the storage."""
    return f"attachments/{secrets.token_hex(16)}"


class Attachment(models.Model):
    """A file sent with a message; served only to those who may read its ticket."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    # The name the sender gave, shown and offered on download; never used as a path.
    name = models.CharField(max_length=200)
    size = models.PositiveBigIntegerField()
    # Set only when Pillow read the content as one of the safe raster formats.
    image_type = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"attachment {self.pk} on message {self.message_id}"
