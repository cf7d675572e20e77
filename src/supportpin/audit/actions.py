import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction

from supportpin.audit.leaves import leaf_bytes
from supportpin.audit.logkeys import log_signer
from supportpin.audit.merkle import (
    append_tiles,
    leaf_hash,
    stored_hashes,
    tile_inner,
    tree_hash,
)
from supportpin.audit.models import ActorKind, AuditEntry, Event, LogCheckpoint, LogTile
from supportpin.audit.note import Checkpoint, sign_note
from supportpin.audit.queries import latest_checkpoint, tile_reader
from supportpin.audit.witnesses import queue_for_witnesses

# How many entries one sealing round puts into the tree under one checkpoint.
SEAL_BATCH = 10_000
# The PostgreSQL advisory lock only the sealer takes (any fixed number; "SEAL" in ASCII).
_SEALER_LOCK = 0x5345414C

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
    """Append an entry to the access log inside the caller's transaction."""
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
        batch.append(entry)
        return entry
    # A plain INSERT, no lock: the sealer gives the entry its place in the tree after commit.
    entry.save()
    return entry


@contextmanager
def batched_appends() -> Iterator[None]:
    """Within one transaction, collect every append and insert them together at the end.

    For bulk work such as a worker pass: one INSERT for the whole batch. Nothing is written if
    the block raises.
    """
    with transaction.atomic():
        batch: list[AuditEntry] = []
        _local.batch = batch
        try:
            yield
        finally:
            _local.batch = None
        if batch:
            AuditEntry.objects.bulk_create(batch)


def seal(*, now: datetime, batch_size: int = SEAL_BATCH) -> int:
    """Put every entry committed before this call into the tree; return how many were sealed.

    Each round of at most `batch_size` entries gives them consecutive leaf indexes, writes the
    tiles that change and signs a checkpoint, all in one transaction.
    """
    newest = AuditEntry.objects.filter(leaf_index__isnull=True).order_by("-id").first()
    if newest is None:
        return 0
    sealed = 0
    while count := _seal_round(up_to_id=newest.id, now=now, batch_size=batch_size):
        sealed += count
    return sealed


def seal_due(*, now: datetime) -> int:
    """Seal once SUPPORTPIN_LOG_SEAL_SECONDS have passed since the newest checkpoint."""
    checkpoint = latest_checkpoint()
    interval = timedelta(seconds=settings.SUPPORTPIN_LOG_SEAL_SECONDS)
    if checkpoint is not None and now < checkpoint.created_at + interval:
        return 0
    return seal(now=now)


def _seal_round(*, up_to_id: int, now: datetime, batch_size: int) -> int:
    signer = log_signer()
    with transaction.atomic():
        _lock_sealer()
        checkpoint = latest_checkpoint()
        size = checkpoint.size if checkpoint else 0
        # Stable order: by id. An entry whose transaction commits after a later id was sealed
        # (a long transaction) simply gets the next free index in the next round.
        entries = list(
            AuditEntry.objects.filter(leaf_index__isnull=True, id__lte=up_to_id).order_by("id")[
                :batch_size
            ]
        )
        if not entries:
            return 0
        new_size = size + len(entries)
        reader = tile_reader(size)
        hashes = stored_hashes(size, [leaf_hash(leaf_bytes(e)) for e in entries], reader)
        tiles = append_tiles(size, hashes, new_size, reader)
        LogTile.objects.bulk_create(
            [
                LogTile(level=t.level, index=t.index, data=data, inner=tile_inner(data))
                for t, data in tiles
            ],
            update_conflicts=True,
            unique_fields=["level", "index"],
            update_fields=["data", "inner"],
        )
        _set_leaf_indexes([e.id for e in entries], first=size)
        root = tree_hash(new_size, tile_reader(new_size))
        text = Checkpoint(origin=signer.name, size=new_size, root_hash=root).text()
        LogCheckpoint.objects.create(
            size=new_size, root_hash=root, note=sign_note(text, signer), created_at=now
        )
        queue_for_witnesses(now=now)
    return len(entries)


def _set_leaf_indexes(ids: list[int], *, first: int) -> None:
    # One statement for the whole round: an UPDATE per row (or Django's CASE) costs more than
    # the hashing.
    indexes = list(range(first, first + len(ids)))
    table = AuditEntry._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} AS e SET leaf_index = v.leaf_index "  # noqa: S608 - our table
                "FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, leaf_index) WHERE e.id = v.id",
                [ids, indexes],
            )
        else:
            cursor.executemany(
                f"UPDATE {table} SET leaf_index = %s WHERE id = %s",  # noqa: S608 - our table
                list(zip(indexes, ids, strict=True)),
            )


def _lock_sealer() -> None:
    # One sealer at a time, and no request waits for it: only sealers take this lock, held to
    # the end of the transaction. SQLite needs none: its IMMEDIATE transactions take the one
    # write lock at BEGIN, so sealers already run one after another.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SEALER_LOCK])
