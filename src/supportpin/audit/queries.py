import base64
import json

from django.db import connection
from django.db.models import Q

from supportpin.audit.leaves import leaf_bytes
from supportpin.audit.logkeys import log_signer
from supportpin.audit.merkle import (
    HASH_SIZE,
    TILE_HEIGHT,
    TILE_WIDTH,
    Tile,
    TileHashReader,
    consistency_proof,
    inclusion_proof,
)
from supportpin.audit.models import AuditEntry, LogCheckpoint, LogTile
from supportpin.lib.problems import Invalid, NotSealedYet


def access_log_page(
    *, customer_number: str, before: int | None, size: int
) -> tuple[list[AuditEntry], int | None]:
    """Return one page of the customer's access log, newest first, and the next page's cursor.

    Newest by the moment it happened, not by when it was written: an end that time caused (a
    PIN's 60 minutes) is written down later, by the next request or the worker, at its own
    second. The cursor is the id of the last entry shown."""
    entries = AuditEntry.objects.filter(customer=customer_number).order_by("-at", "-id")
    if before is not None:
        last = AuditEntry.objects.filter(customer=customer_number, id=before).values("at").first()
        if last is None:
            return [], None
        entries = entries.filter(Q(at__lt=last["at"]) | Q(at=last["at"], id__lt=before))
    page = list(entries[: size + 1])
    more = len(page) > size
    page = page[:size]
    return page, (page[-1].id if more else None)


def latest_checkpoint() -> LogCheckpoint | None:
    """Return the newest signed checkpoint, or None before the first seal."""
    return LogCheckpoint.objects.order_by("-size").first()


def cosigned_note(checkpoint: LogCheckpoint) -> str:
    """Return the checkpoint's signed note with its witnesses' cosignatures as more signatures."""
    lines = checkpoint.cosignatures.order_by("witness").values_list("line", flat=True)
    return checkpoint.note + "".join(f"{line}\n" for line in lines)


def read_tiles(tiles: list[Tile]) -> list[tuple[bytes, bytes]]:
    """Return the stored bytes of each of `tiles`, cut to its width, and its inner hashes
    (both short if not stored), in one query."""
    if not tiles:
        return []
    # One statement whatever the tree's size: a proof costs one round trip at 10k leaves as at
    # 10M. Plain SQL, since building an ORM filter of that many terms cost more than the query.
    table, quote = LogTile._meta.db_table, connection.ops.quote_name
    pairs = ", ".join(["(%s, %s)"] * len(tiles))
    columns = ", ".join(quote(name) for name in ("level", "index", "data", "inner"))
    key = f"({quote('level')}, {quote('index')})"
    sql = f"SELECT {columns} FROM {quote(table)} WHERE {key} IN ({pairs})"  # noqa: S608 - no input
    with connection.cursor() as cursor:
        cursor.execute(sql, [n for tile in tiles for n in (tile.level, tile.index)])
        rows = {
            (level, index): (bytes(data), bytes(inner))
            for level, index, data, inner in cursor.fetchall()
        }
    # A tile cut short (or missing) yields too few bytes, which the reader refuses.
    return [
        (data[: tile.width * HASH_SIZE], inner)
        for tile in tiles
        for data, inner in [rows.get((tile.level, tile.index), (b"", b""))]
    ]


def tile_reader(size: int) -> TileHashReader:
    """Return a hash reader over the stored tiles of the tree of `size` leaves."""
    return TileHashReader(size, read_tiles)


def entry_proof(entry: AuditEntry) -> tuple[LogCheckpoint, list[bytes]]:
    """Return the newest checkpoint and the inclusion proof of `entry` in its tree."""
    checkpoint = latest_checkpoint()
    if entry.leaf_index is None or checkpoint is None or entry.leaf_index >= checkpoint.size:
        raise NotSealedYet("The entry is sealed within seconds; ask again then.")
    return checkpoint, inclusion_proof(
        entry.leaf_index, checkpoint.size, tile_reader(checkpoint.size)
    )


def log_consistency(old_size: int, new_size: int) -> list[bytes]:
    """Return the proof that the tree of `old_size` leaves is a prefix of `new_size`'s."""
    checkpoint = latest_checkpoint()
    size = checkpoint.size if checkpoint else 0
    if not 0 < old_size <= new_size <= size:
        raise Invalid(
            f"Both sizes must lie between 1 and the newest checkpoint's size, {size}, "
            "the first no larger than the second.",
            errors=[{"field": "from", "message": "out of range"}],
        )
    return consistency_proof(old_size, new_size, tile_reader(new_size))


def tile_bytes(path: str) -> bytes | None:
    """Return the hash tile at `path` as the newest checkpoint's tree holds it, or None."""
    try:
        tile = Tile.from_path(path)
    except ValueError:
        return None
    checkpoint = latest_checkpoint()
    hashes_at_level = (checkpoint.size if checkpoint else 0) >> (TILE_HEIGHT * tile.level)
    available = min(TILE_WIDTH, hashes_at_level - (tile.index << TILE_HEIGHT))
    # A full tile only once the tree fills it; a partial one at most as wide as the tree has.
    if available <= 0 or tile.width > available:
        return None
    data, _inner = read_tiles([tile])[0]
    return data if len(data) == tile.width * HASH_SIZE else None


def proof_document(entry: AuditEntry) -> dict:
    """Return what checks `entry` offline: its leaf, inclusion proof, checkpoint and public key."""
    checkpoint, proof = entry_proof(entry)
    leaf = leaf_bytes(entry)
    return {
        "entry": json.loads(leaf),
        "leaf_index": entry.leaf_index,
        "leaf": base64.b64encode(leaf).decode(),
        "proof": [base64.b64encode(h).decode() for h in proof],
        "checkpoint": cosigned_note(checkpoint),
        "public_key": str(log_signer().verifier),
    }
