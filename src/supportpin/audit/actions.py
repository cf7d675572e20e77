from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta

import psycopg
from django.conf import settings
from django.db import connection, transaction
from psycopg.pq import Format

from supportpin.audit.leaves import LEAF_FIELDS, leaf_from_values
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
from supportpin.lib.batches import InsertBatch

# How many entries one sealing round puts into the tree under one checkpoint.
SEAL_BATCH = 10_000
# The PostgreSQL advisory lock only the sealer takes (any fixed number; "SEAL" in ASCII).
_SEALER_LOCK = 0x5345414C

# The entries of a batched_appends() block.
_BATCH = InsertBatch(AuditEntry)


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
    if _BATCH.add(entry):
        return entry
    # A plain INSERT, no lock: the sealer gives the entry its place in the tree after commit.
    entry.save()
    return entry


def batched_appends() -> AbstractContextManager[None]:
    """Within one transaction, collect every append and insert them together at the end.

    For bulk work such as a worker pass: one INSERT for the whole batch. Nothing is written if
    the block raises.
    """
    return _BATCH.collecting()


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
        rows = _unsealed_rows(up_to_id=up_to_id, limit=batch_size)
        if not rows:
            return 0
        new_size = size + len(rows)
        with _leaf_indexes_set([row[0] for row in rows], first=size):
            leaf_hashes = [leaf_hash(leaf_from_values(*row)) for row in rows]
        root = append_leaves(size, leaf_hashes)
        text = Checkpoint(origin=signer.name, size=new_size, root_hash=root).text()
        LogCheckpoint.objects.create(
            size=new_size, root_hash=root, note=sign_note(text, signer), created_at=now
        )
        queue_for_witnesses(now=now)
    return len(rows)


def _unsealed_rows(*, up_to_id: int, limit: int) -> list[tuple]:
    # Stable order: by id. An entry whose transaction commits after a later id was sealed
    # (a long transaction) simply gets the next free index in the next round. Rows of
    # values, not model objects: building 10,000 objects cost more than hashing them.
    rows = (
        AuditEntry.objects.filter(leaf_index__isnull=True, id__lte=up_to_id)
        .order_by("id")
        .values_list(*LEAF_FIELDS)[:limit]
    )
    if connection.vendor != "postgresql":
        return list(rows)
    # Django reads timestamptz with a loader written in Python and jsonb as text it parses
    # again; psycopg's own loaders are in C and take half the time. Same values either way.
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        adapters = cursor.cursor.adapters  # this cursor's own copy
        for name in ("timestamptz", "jsonb"):
            oid = psycopg.postgres.types[name].oid
            adapters.register_loader(oid, psycopg.adapters.get_loader(oid, Format.TEXT))
        cursor.execute(sql, params)
        return cursor.fetchall()


def append_leaves(size: int, leaf_hashes: list[bytes]) -> bytes:
    """Store the tiles (with their inner hashes) that appending `leaf_hashes` to the tree of
    `size` leaves changes; return the new tree's root. The caller holds the sealer's lock."""
    new_size = size + len(leaf_hashes)
    reader = tile_reader(size)
    hashes = stored_hashes(size, leaf_hashes, reader)
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
    return tree_hash(new_size, tile_reader(new_size))


@contextmanager
def _leaf_indexes_set(ids: list[int], *, first: int) -> Iterator[None]:
    """Give the entries `ids` the leaf indexes from `first` on by the end of the block.

    On PostgreSQL the UPDATE goes out in pipeline mode as the block starts: the server writes
    while Python hashes the leaves in the block, and its result is awaited as the block ends.
    The block must not use the database.
    """
    # One statement for the whole round: an UPDATE per row (or Django's CASE) costs more than
    # the hashing. The ids go to PostgreSQL as one array literal, numbered there: building it
    # as text is far cheaper than adapting 10,000 ints one by one.
    table = AuditEntry._meta.db_table
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET leaf_index = %s WHERE id = %s",  # noqa: S608 - our table
                list(enumerate(ids, start=first)),
            )
        yield
        return
    psycopg_connection = connection.connection
    # Past Django's cursor, so its error translation is put back by hand: the worker rides out
    # a database restart by catching Django's OperationalError, not psycopg's.
    with (
        connection.wrap_database_errors,
        psycopg_connection.pipeline(),
        psycopg_connection.cursor() as cursor,
    ):
        cursor.execute(
            f"UPDATE {table} AS e SET leaf_index = %s + v.n - 1 "  # noqa: S608 - our table
            "FROM unnest(%s::bigint[]) WITH ORDINALITY AS v(id, n) WHERE e.id = v.id",
            [first, "{" + ",".join(map(str, ids)) + "}"],
        )
        yield


def _lock_sealer() -> None:
    # One sealer at a time, and no request waits for it: only sealers take this lock, held to
    # the end of the transaction. SQLite needs none: its IMMEDIATE transactions take the one
    # write lock at BEGIN, so sealers already run one after another.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SEALER_LOCK])
