import base64
import json

from django.db import connection
from django.db.models import Q

from supportpin.audit.leaves import leaf_bytes
from supportpin.audit.logkeys import log_signer
from supportpin.audit.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    TILE_HEIGHT,
    TILE_WIDTH,
    HashPlace,
    Tile,
    TileHashReader,
    consistency_proof,
    inclusion_proof,
)
from supportpin.audit.models import AuditEntry, LogCheckpoint, LogTile
from supportpin.audit.note import Checkpoint, sign_note
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


def published_checkpoint() -> str:
    """Return the newest checkpoint's note with its cosignatures. Before the first seal, the
    empty tree's (size 0, RFC 9162's root of no leaves), signed now: a monitor or witness can
    start from it, and a later checkpoint is consistent with it by definition."""
    checkpoint = latest_checkpoint()
    if checkpoint is not None:
        return cosigned_note(checkpoint)
    signer = log_signer()
    return sign_note(Checkpoint(origin=signer.name, size=0, root_hash=EMPTY_ROOT).text(), signer)


def cosigned_note(checkpoint: LogCheckpoint) -> str:
    """Return the checkpoint's signed note with its witnesses' cosignatures as more signatures."""
    lines = checkpoint.cosignatures.order_by("witness").values_list("line", flat=True)
    return checkpoint.note + "".join(f"{line}\n" for line in lines)


def read_places(places: list[HashPlace]) -> list[bytes]:
    """Return the 32 bytes stored at each of `places` (short where nothing is), in one query.

    Only those bytes leave the database, not the tiles they lie in: a proof reads the same
    amount at 10k leaves as at 10M. Plain SQL (a CTE of the places, `substr` of the column):
    an ORM filter of that many terms cost more than the query."""
    if not places:
        return []
    table, quote = LogTile._meta.db_table, connection.ops.quote_name
    rows = ", ".join(["(%s, %s, %s, %s, %s)"] * len(places))
    # Our names, and placeholders only. A subquery per place: each is one index lookup, so the
    # plan stays the same however many tiles the log has (a join turned into a table scan).
    sql = (
        f"WITH place(n, lvl, idx, inner_hash, byte) AS (VALUES {rows}) "  # noqa: S608
        f"SELECT place.n, (SELECT substr(CASE WHEN place.inner_hash = 1 "
        f"THEN t.{quote('inner')} ELSE t.{quote('data')} END, place.byte + 1, {HASH_SIZE}) "
        f"FROM {quote(table)} t "
        f"WHERE t.{quote('level')} = place.lvl AND t.{quote('index')} = place.idx) FROM place"
    )
    params = [
        n for i, p in enumerate(places) for n in (i, p.level, p.index, int(p.inner), p.offset)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = {n: bytes(value) for n, value in cursor.fetchall() if value is not None}
    return [found.get(i, b"") for i in range(len(places))]


def tile_reader(size: int) -> TileHashReader:
    """Return a hash reader over the stored tiles of the tree of `size` leaves."""
    return TileHashReader(size, read_places)


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
    stored = LogTile.objects.filter(level=tile.level, index=tile.index)
    data = bytes(stored.values_list("data", flat=True).first() or b"")[: tile.width * HASH_SIZE]
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
