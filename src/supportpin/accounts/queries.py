from dataclasses import dataclass
from datetime import datetime

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


def customer_recipient(number: str) -> Recipient:
    """Return where the customer's e-mails go and in what language."""
    return customer_recipients({number})[number]


def customer_recipients(numbers: set[str]) -> dict[str, Recipient]:
    """Return each customer's recipient, in one query, for bulk notifications."""
    rows = Customer.objects.filter(number__in=numbers).values_list(
        "number", "language", "personal_data__email"
    )
    return {
        number: Recipient(to=[email] if email else [], language=language)
        for number, language, email in rows
    }
