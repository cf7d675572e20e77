from supportpin.audit.models import AuditEntry


def access_log_page(
    *, customer_number: str, before: int | None, size: int
) -> tuple[list[AuditEntry], int | None]:
    """Return one page of the customer's access log, newest first, and the next page's cursor."""
    entries = AuditEntry.objects.filter(customer=customer_number).order_by("-seq")
    if before is not None:
        entries = entries.filter(seq__lt=before)
    page = list(entries[: size + 1])
    more = len(page) > size
    page = page[:size]
    return page, (page[-1].seq if more else None)
