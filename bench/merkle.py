"""Time the transparency log's Merkle tree: sealing leaves into tiles, and reading proofs.

    .venv/bin/python bench/merkle.py --leaves 100000 --batch 1000

Pure computation, no database: leaves shaped like access-log entries (canonical JSON of about
200 bytes) are hashed and appended in batches of --batch, as the sealer will each round
(`stored_hashes`, then `append_tiles`), into tiles kept in memory; then inclusion and
consistency proofs are read from those tiles at each power of ten the tree passed. Prints
leaves/s for sealing (the goal: at least 20,000 entries/s) and the time per proof by tree size
(the goal: flat as the tree grows).
"""

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from supportpin.audit import merkle


class Tiles:
    """Tiles as the database will keep them: one row per (level, index), replaced as it grows."""

    def __init__(self):
        self.rows: dict[tuple[int, int], bytes] = {}
        self.inner: dict[tuple[int, int], bytes] = {}
        self.size = 0
        self.tiles_read = 0

    def read_places(self, places: list[merkle.HashPlace]) -> list[bytes]:
        self.tiles_read += len({(p.level, p.index) for p in places})
        return [
            (self.inner if p.inner else self.rows)[p.level, p.index][p.offset : p.offset + 32]
            for p in places
        ]

    def seal(self, leaves: list[bytes]) -> None:
        reader = merkle.TileHashReader(self.size, self.read_places)
        hashes = merkle.stored_hashes(
            self.size, [merkle.leaf_hash(leaf) for leaf in leaves], reader
        )
        grown = self.size + len(leaves)
        for tile, data in merkle.append_tiles(self.size, hashes, grown, reader):
            self.rows[(tile.level, tile.index)] = data
            self.inner[tile.level, tile.index] = merkle.tile_inner(data)
        self.size = grown


def entry(i: int) -> bytes:
    fields = {
        "actor": "Anna Beispiel",
        "at": "2026-11-28T05:38:22.123456+00:00",
        "basis": "pin",
        "customer": f"K{10000 + i % 5000}",
        "detail": "",
        "event": "product_read",
        "product": f"vm-{i % 977}",
        "ticket": None,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leaves", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000, help="leaves sealed per round")
    parser.add_argument("--proofs", type=int, default=1000, help="proofs of each kind per size")
    args = parser.parse_args()

    leaves = [entry(i) for i in range(args.leaves)]
    tiles = Tiles()
    checkpoints = [10**k for k in range(4, 10) if 10**k <= args.leaves]
    started = time.perf_counter()
    for start in range(0, args.leaves, args.batch):
        tiles.seal(leaves[start : start + args.batch])
    sealing = time.perf_counter() - started
    print(
        f"sealed {args.leaves} leaves in batches of {args.batch}: {sealing:.2f} s, "
        f"{args.leaves / sealing:,.0f} leaves/s, {len(tiles.rows)} tiles"
    )

    rng = random.Random(9)  # noqa: S311 - picks proof positions, no secret
    for size in sorted({*checkpoints, tiles.size}):
        reader = merkle.TileHashReader(size, tiles.read_places)
        tiles.tiles_read = 0
        started = time.perf_counter()
        for _ in range(args.proofs):
            merkle.inclusion_proof(rng.randrange(size), size, reader)
        inclusion = (time.perf_counter() - started) / args.proofs
        started = time.perf_counter()
        for _ in range(args.proofs):
            merkle.consistency_proof(rng.randrange(1, size + 1), size, reader)
        consistency = (time.perf_counter() - started) / args.proofs
        print(
            f"tree of {size:>10,}: inclusion proof {inclusion * 1e3:.3f} ms, "
            f"consistency proof {consistency * 1e3:.3f} ms, "
            f"{tiles.tiles_read / (2 * args.proofs):.1f} tiles read per proof"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
