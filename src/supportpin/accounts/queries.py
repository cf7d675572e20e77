from supportpin.accounts.models import PersonalData


def customer_email(number: str) -> list[str]:
    """Return the customer's e-mail address as a recipient list (empty when there is none)."""
    email = PersonalData.objects.filter(customer_id=number).values_list("email", flat=True).first()
    return [email] if email else []
