from supportpin.accounts.models import PersonalData


def customer_email(number: str) -> list[str]:
    """Return the customer's e-mail address as a recipient list (empty when there is none)."""
    return customer_emails({number}).get(number, [])


def customer_emails(numbers: set[str]) -> dict[str, list[str]]:
    """Return each customer's recipient list, in one query, for bulk notifications."""
    rows = PersonalData.objects.filter(customer_id__in=numbers).exclude(email="")
    return {number: [email] for number, email in rows.values_list("customer_id", "email")}
