from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import F

from supportpin.accounts.models import Customer
from supportpin.notify.actions import queue_email_from_template


@dataclass(frozen=True)
class Recipient:
    """Where a customer's e-mails go (nowhere without an address) and in which language."""

    to: list[str]
    language: str

    def queue(self, template: str, context: dict, *, now: datetime) -> None:
        """Queue the e-mail `notify/<template>.txt` to this customer, in their language."""
        queue_email_from_template(
            to=self.to, template=template, context=context, language=self.language, now=now
        )


def recipient_along(via: str) -> dict[str, F]:
    """The fields a query on rows that name a customer (through `via`, e.g. "customer__")
    reads along, so `read_along_recipient` needs no query of its own."""
    return {
        "recipient_email": F(f"{via}personal_data__email"),
        "recipient_language": F(f"{via}language"),
    }


def read_along_recipient(row: Any) -> Recipient:
    """Return the recipient of a row read with `recipient_along`."""
    return _recipient(row.recipient_email, row.recipient_language)


def customer_recipient(number: str) -> Recipient:
    """Return where the customer's e-mails go and in what language."""
    return customer_recipients({number})[number]


def customer_recipients(numbers: set[str]) -> dict[str, Recipient]:
    """Return each customer's recipient, in one query, for bulk notifications."""
    rows = Customer.objects.filter(number__in=numbers).values_list(
        "number", "language", "personal_data__email"
    )
    return {number: _recipient(email, language) for number, language, email in rows}


def _recipient(email: str | None, language: str) -> Recipient:
    # A customer without personal data has no address: their e-mails go nowhere.
    return Recipient(to=[email] if email else [], language=language)
