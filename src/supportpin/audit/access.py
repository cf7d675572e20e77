from supportpin.audit.models import AuditEntry
from supportpin.lib.problems import NotFound


def access_entry_for_customer(customer_number: str, entry_id: int) -> AuditEntry:
    """Return the customer's own access-log entry; NotFound for missing and not-yours."""
    entry = AuditEntry.objects.filter(pk=entry_id, customer=customer_number).first()
    if entry is None:
        raise NotFound("No access-log entry with this id in your log.")
    return entry
