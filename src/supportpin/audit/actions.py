from datetime import datetime

from django.db import transaction

from supportpin.audit.chain import GENESIS, entry_hash
from supportpin.audit.models import ActorKind, AuditEntry, AuditHead, Event


def record(
    *,
    event: Event,
    at: datetime,
    actor_kind: ActorKind,
    actor: str,
    customer: str = "",
    product: str = "",
    basis: str = "",
    grant_id: int | None = None,
    ticket_id: int | None = None,
    detail: dict | None = None,
) -> AuditEntry:
    """Append an entry to the audit chain inside the caller's transaction."""
    # savepoint=False: the caller's transaction is the unit; a savepoint would only cost queries.
    with transaction.atomic(savepoint=False):
        # Every append locks the head row until the caller commits, so entries form one line
        # with no two links claiming the same predecessor. Callers record last to keep it short.
        head = _locked_head()
        entry = AuditEntry(
            seq=head.seq + 1,
            at=at,
            event=event,
            actor_kind=actor_kind,
            actor=actor,
            customer=customer,
            product=product,
            basis=basis,
            grant_id=grant_id,
            ticket_id=ticket_id,
            detail=detail or {},
            prev_hash=head.hash,
        )
        entry.hash = entry_hash(entry, head.hash)
        entry.save()
        AuditHead.objects.filter(pk=1).update(seq=entry.seq, hash=entry.hash)
    return entry


def _locked_head() -> AuditHead:
    try:
        return AuditHead.objects.select_for_update().get(pk=1)
    except AuditHead.DoesNotExist:
        # Only on an empty database whose migration row was wiped (tests that flush tables);
        # an emptied log with entries left would show in verifyaudit as a broken chain.
        AuditHead.objects.get_or_create(pk=1, defaults={"seq": 0, "hash": GENESIS})
        return AuditHead.objects.select_for_update().get(pk=1)
