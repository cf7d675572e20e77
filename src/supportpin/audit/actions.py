import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from supportpin.audit.chain import GENESIS, entry_hash
from supportpin.audit.models import ActorKind, AuditEntry, AuditHead, Event


@dataclass
class _Batch:
    head: AuditHead
    entries: list[AuditEntry] = field(default_factory=list)


_local = threading.local()


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
    entry = AuditEntry(
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
    )
    batch = getattr(_local, "batch", None)
    if batch is not None:
        _link(entry, batch.head)
        batch.entries.append(entry)
        return entry
    # savepoint=False: the caller's transaction is the unit; a savepoint would only cost queries.
    with transaction.atomic(savepoint=False):
        # Every append locks the head row until the caller commits, so entries form one line
        # with no two links claiming the same predecessor. Callers record last to keep it short.
        head = _locked_head()
        _link(entry, head)
        entry.save()
        AuditHead.objects.filter(pk=1).update(seq=head.seq, hash=head.hash)
    return entry


@contextmanager
def batched_appends() -> Iterator[None]:
    """Within one transaction, collect every append and write them together at the end.

    For bulk work such as a worker pass: the chain head is locked and updated once, the
    entries are inserted in one statement. Nothing is written if the block raises.
    """
    with transaction.atomic():
        _local.batch = batch = _Batch(head=_locked_head())
        try:
            yield
        finally:
            _local.batch = None
        if batch.entries:
            AuditEntry.objects.bulk_create(batch.entries)
            AuditHead.objects.filter(pk=1).update(seq=batch.head.seq, hash=batch.head.hash)


def _link(entry: AuditEntry, head: AuditHead) -> None:
    """Make `entry` the chain's next link and move `head` (in memory) onto it."""
    entry.seq = head.seq + 1
    entry.prev_hash = head.hash
    entry.hash = entry_hash(entry, head.hash)
    head.seq, head.hash = entry.seq, entry.hash


def _locked_head() -> AuditHead:
    try:
        return AuditHead.objects.select_for_update().get(pk=1)
    except AuditHead.DoesNotExist:
        # Only on an empty database whose migration row was wiped (tests that flush tables);
        # an emptied log with entries left would show in verifyaudit as a broken chain.
        AuditHead.objects.get_or_create(pk=1, defaults={"seq": 0, "hash": GENESIS})
        return AuditHead.objects.select_for_update().get(pk=1)
