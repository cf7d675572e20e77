from django.db.models import Q

from supportpin.audit.merkle import HASH_SIZE, Tile, TileHashReader
from supportpin.audit.models import AuditEntry, LogCheckpoint, LogTile


def access_log_page(
    *, customer_number: str, before: int | None, size: int
) -> tuple[list[AuditEntry], int | None]:
    """Return one page of the customer's access log, newest first, and the next page's cursor."""
    entries = AuditEntry.objects.filter(customer=customer_number).order_by("-id")
    if before is not None:
        entries = entries.filter(id__lt=before)
    page = list(entries[: size + 1])
    more = len(page) > size
    page = page[:size]
    return page, (page[-1].id if more else None)


def latest_checkpoint() -> LogCheckpoint | None:
    """Return the newest signed checkpoint, or None before the first seal."""
    return LogCheckpoint.objects.order_by("-size").first()


def read_tiles(tiles: list[Tile]) -> list[bytes]:
    """Return the stored bytes of each of `tiles`, cut to its width (short if not stored)."""
    if not tiles:
        return []
    wanted = Q()
    for tile in tiles:
        wanted |= Q(level=tile.level, index=tile.index)
    rows = {
        (level, index): bytes(data)
        for level, index, data in LogTile.objects.filter(wanted).values_list(
            "level", "index", "data"
        )
    }
    # A tile cut short (or missing) yields too few bytes, which the reader refuses.
    return [rows.get((tile.level, tile.index), b"")[: tile.width * HASH_SIZE] for tile in tiles]


def tile_reader(size: int) -> TileHashReader:
    """Return a hash reader over the stored tiles of the tree of `size` leaves."""
    return TileHashReader(size, read_tiles)
