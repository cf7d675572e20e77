"""The access log's Merkle tree: RFC 9162 hashing, proofs, and its C2SP tlog-tiles storage.

Hashes are addressed the way Go's golang.org/x/mod/sumdb/tlog addresses them: every complete
subtree's hash has a *stored hash index*, numbered in the order the hashes come into existence
as leaves are appended (leaf 0, leaf 1, their parent, leaf 2, ...). They are kept as C2SP
tlog-tiles: a tile at level L holds up to 256 consecutive hashes of Merkle level 8·L. The seven
levels in between are kept beside each tile (`tile_inner`), so a proof reads O(log n) hashes
through a `HashReader` and hashes nothing: it costs the same in a tree of 10k leaves as of 10M.
"""

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

HASH_SIZE = 32
TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
# RFC 9162 §2.1.1: the hash of an empty tree is the hash of the empty string.
EMPTY_ROOT = hashlib.sha256(b"").digest()
# Beside a tile: the hashes of Merkle levels 1..7 over its hashes, level by level at fixed
# places (128 + 64 + ... + 2 = 254 hashes); in a partial tile, those not complete yet are zero.
_INNER_PLACES = {k: TILE_WIDTH - (TILE_WIDTH >> (k - 1)) for k in range(1, TILE_HEIGHT)}
INNER_SIZE = (TILE_WIDTH - 2) * HASH_SIZE
# tile/<L>/<N>[.p/<W>], N in 3-digit groups with an x on all but the last (C2SP tlog-tiles).
_TILE_PATH = re.compile(r"tile/(\d{1,2})/((?:x\d{3}/){0,5}\d{3})(?:\.p/(\d{1,3}))?", re.ASCII)


class HashReader(Protocol):
    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        """Return the stored hashes at `indexes`, in that order."""
        ...


class ProofError(ValueError):
    """A proof or tile was asked for outside the tree, or storage returned the wrong data."""


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 9162 hash of a leaf: SHA-256(0x00 ‖ data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 hash of an inner node: SHA-256(0x01 ‖ left ‖ right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def stored_hash_index(level: int, n: int) -> int:
    """Return the stored hash index of the `n`-th hash at Merkle `level` (0: leaves)."""
    # The last leaf under that node is leaf m; before its hash come, for each leaf i < m, the
    # leaf and the trailing_ones(i) parents it completes: sum(m >> k) = 2m - popcount(m) hashes.
    m = ((n + 1) << level) - 1
    return 2 * m - m.bit_count() + level


def split_stored_hash_index(index: int) -> tuple[int, int]:
    """Return the (level, n) whose stored hash index is `index`."""
    n = index // 2
    index_n = stored_hash_index(0, n)
    while True:
        # The hashes after leaf n: its trailing_ones(n) parents, then leaf n + 1.
        following = index_n + 1 + _trailing_zeros(n + 1)
        if following > index:
            break
        n += 1
        index_n = following
    level = index - index_n
    return level, n >> level


def stored_hash_count(size: int) -> int:
    """Return how many hashes a tree of `size` leaves stores."""
    if size == 0:
        return 0
    return stored_hash_index(0, size - 1) + 1 + _trailing_zeros(size)


def stored_hashes(size: int, leaf_hashes: Sequence[bytes], reader: HashReader) -> list[bytes]:
    """Return the hashes to store after `size`'s when `leaf_hashes` are appended, in order."""
    base = stored_hash_count(size)
    # The only stored hashes the new nodes need are the roots of the complete subtrees the old
    # tree splits into: a left sibling stored before `size` whose parent is new is one of them.
    old_indexes = _subtree_indexes(0, size)
    old = dict(zip(old_indexes, _read(reader, old_indexes), strict=True))
    new: list[bytes] = []
    for offset, h in enumerate(leaf_hashes):
        n = size + offset
        new.append(h)
        for level in range(_trailing_zeros(n + 1)):
            sibling = stored_hash_index(level, (n >> level) - 1)
            left = new[sibling - base] if sibling >= base else old[sibling]
            h = node_hash(left, h)
            new.append(h)
    return new


def tree_hash(size: int, reader: HashReader) -> bytes:
    """Return the root hash of the tree of the first `size` leaves."""
    if size == 0:
        return EMPTY_ROOT
    indexes = _subtree_indexes(0, size)
    root, rest = _subtree_hash(0, size, _read(reader, indexes))
    assert not rest
    return root


def inclusion_proof(index: int, size: int, reader: HashReader) -> list[bytes]:
    """Return the RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size} leaves")
    indexes = _inclusion_indexes(0, size, index)
    proof, rest = _inclusion_proof(0, size, index, _read(reader, indexes))
    assert not rest
    return proof


def consistency_proof(old_size: int, new_size: int, reader: HashReader) -> list[bytes]:
    """Return the RFC 9162 proof that the tree of `old_size` leaves is a prefix of `new_size`'s."""
    if not 0 < old_size <= new_size:
        raise ProofError(f"no consistency proof from size {old_size} to size {new_size}")
    indexes = _consistency_indexes(0, new_size, old_size)
    proof, rest = _consistency_proof(0, new_size, old_size, _read(reader, indexes))
    assert not rest
    return proof


def verify_inclusion(
    *, index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """Return whether `proof` shows leaf hash `leaf` at `index` in the tree with `root`."""
    # RFC 9162 §2.1.3.2, step by step.
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    *, old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Return whether `proof` shows the tree with `old_root` is a prefix of `new_root`'s."""
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    # RFC 9162 §2.1.4.2, step by step.
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


@dataclass(frozen=True, order=True)
class Tile:
    """A C2SP tlog-tiles hash tile: `width` hashes of Merkle level 8·`level`, from 256·`index`."""

    level: int
    index: int
    width: int = TILE_WIDTH

    @property
    def path(self) -> str:
        """Return the tile's path, e.g. tile/0/x001/x234/067 or tile/1/005.p/17."""
        groups = [f"{self.index % 1000:03d}"]
        n = self.index // 1000
        while n:
            groups.insert(0, f"x{n % 1000:03d}")
            n //= 1000
        partial = f".p/{self.width}" if self.width < TILE_WIDTH else ""
        return f"tile/{self.level}/{'/'.join(groups)}{partial}"

    @classmethod
    def from_path(cls, path: str) -> "Tile":
        """Return the tile a path names; raise ValueError unless it is a tile's exact path."""
        match = _TILE_PATH.fullmatch(path)
        if not match:
            raise ValueError(f"not a tile path: {path!r}")
        level, index, width = match.groups(default=str(TILE_WIDTH))
        tile = cls(
            level=int(level), index=int(index.replace("x", "").replace("/", "")), width=int(width)
        )
        # Only the canonical spelling names a tile: no leading zeros, x on all but the last.
        if tile.level > 63 or not 0 < tile.width <= TILE_WIDTH or tile.path != path:
            raise ValueError(f"not a tile path: {path!r}")
        return tile


def tile_inner(data: bytes) -> bytes:
    """Return the hashes of levels 1..7 inside a tile whose hashes are `data` (`INNER_SIZE`)."""
    inner = bytearray(INNER_SIZE)
    level = [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]
    for place in _INNER_PLACES.values():
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        inner[place * HASH_SIZE : (place + len(level)) * HASH_SIZE] = b"".join(level)
    return bytes(inner)


@dataclass(frozen=True)
class HashPlace:
    """Where a stored hash lies: `offset` bytes into the hashes of tile (`level`, `index`), or
    into its inner hashes."""

    level: int
    index: int
    inner: bool
    offset: int


def hash_place(index: int) -> HashPlace:
    """Return where stored hash `index` lies: a hash of its tile, or one of the inner ones."""
    tile, start, end = _tile_for_index(index)
    span = (end - start) // HASH_SIZE
    if span == 1:
        return HashPlace(tile.level, tile.index, inner=False, offset=start)
    k = span.bit_length() - 1
    place = _INNER_PLACES[k] + (start // HASH_SIZE >> k)
    return HashPlace(tile.level, tile.index, inner=True, offset=place * HASH_SIZE)


def new_tiles(old_size: int, new_size: int) -> list[Tile]:
    """Return the tiles that change when a tree grows from `old_size` to `new_size` leaves."""
    tiles = []
    level = 0
    while new_size >> (TILE_HEIGHT * level):
        old_n = old_size >> (TILE_HEIGHT * level)
        new_n = new_size >> (TILE_HEIGHT * level)
        if old_n != new_n:
            for index in range(old_n >> TILE_HEIGHT, new_n >> TILE_HEIGHT):
                tiles.append(Tile(level=level, index=index))
            index = new_n >> TILE_HEIGHT
            if width := new_n - (index << TILE_HEIGHT):
                tiles.append(Tile(level=level, index=index, width=width))
        level += 1
    return tiles


def tile_data(tile: Tile, reader: HashReader) -> bytes:
    """Return the bytes of `tile`: its stored hashes, concatenated."""
    return b"".join(_read(reader, _tile_indexes(tile)))


def append_tiles(
    old_size: int, new_hashes: Sequence[bytes], new_size: int, reader: HashReader
) -> list[tuple[Tile, bytes]]:
    """Return each tile that growing to `new_size` changes, with its bytes.

    `new_hashes` are the hashes `stored_hashes` returned for the new leaves; `reader` reads
    the hashes the tree of `old_size` leaves had stored.
    """
    base = stored_hash_count(old_size)
    if base + len(new_hashes) != stored_hash_count(new_size):
        raise ProofError(f"{len(new_hashes)} hashes do not grow {old_size} leaves to {new_size}")
    tiles = new_tiles(old_size, new_size)
    indexes = {tile: _tile_indexes(tile) for tile in tiles}
    # A partial tile that grows starts with hashes stored before: read them all at once.
    old_indexes = sorted({i for tile in tiles for i in indexes[tile] if i < base})
    old = dict(zip(old_indexes, _read(reader, old_indexes), strict=True))
    return [
        (tile, b"".join(new_hashes[i - base] if i >= base else old[i] for i in indexes[tile]))
        for tile in tiles
    ]


class TileHashReader:
    """Read stored hashes of the tree of `size` leaves from its tiles.

    `read_places` returns the 32 bytes at each place asked for (fewer if they are not stored):
    a proof asks for its O(log n) hashes in one call and reads nothing else, so it costs about
    the same in a tree of 10k leaves as in one of 10M.
    """

    def __init__(self, size: int, read_places: Callable[[list[HashPlace]], list[bytes]]):
        self.size = size
        self.read_places = read_places

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        """Return the stored hashes at `indexes`."""
        end = stored_hash_index(0, self.size)
        for index in indexes:
            if not 0 <= index < end:
                raise ProofError(f"stored hash {index} is not in a tree of {self.size} leaves")
        # A hash of a complete subtree never changes: where it lies is the same at every size.
        places = [hash_place(index) for index in indexes]
        hashes = self.read_places(places)
        if len(hashes) != len(places) or any(len(h) != HASH_SIZE for h in hashes):
            raise ProofError("the stored tiles lack hashes of the tree")
        return hashes


def _trailing_zeros(n: int) -> int:
    return (n & -n).bit_length() - 1


def _largest_power_of_two_below(n: int) -> int:
    # The size of the left subtree of a tree of n > 1 leaves (RFC 9162 §2.1.1: k < n <= 2k).
    return 1 << ((n - 1).bit_length() - 1)


def _read(reader: HashReader, indexes: list[int]) -> list[bytes]:
    if not indexes:
        return []
    hashes = reader.read_hashes(indexes)
    if len(hashes) != len(indexes):
        raise ProofError(f"asked for {len(indexes)} stored hashes, got {len(hashes)}")
    return hashes


def _subtree_indexes(lo: int, hi: int) -> list[int]:
    # The complete subtrees [lo, hi) splits into, largest first.
    indexes = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        indexes.append(stored_hash_index(level, lo >> level))
        lo += 1 << level
    return indexes


def _subtree_hash(lo: int, hi: int, hashes: list[bytes]) -> tuple[bytes, list[bytes]]:
    count = len(_subtree_indexes(lo, hi))
    h = hashes[count - 1]
    for left in reversed(hashes[: count - 1]):
        h = node_hash(left, h)
    return h, hashes[count:]


def _inclusion_indexes(lo: int, hi: int, n: int) -> list[int]:
    if lo + 1 == hi:
        return []
    k = _largest_power_of_two_below(hi - lo)
    if n < lo + k:
        return _inclusion_indexes(lo, lo + k, n) + _subtree_indexes(lo + k, hi)
    return _subtree_indexes(lo, lo + k) + _inclusion_indexes(lo + k, hi, n)


def _inclusion_proof(lo: int, hi: int, n: int, hashes: list[bytes]) -> tuple[list, list]:
    if lo + 1 == hi:
        return [], hashes
    k = _largest_power_of_two_below(hi - lo)
    if n < lo + k:
        proof, hashes = _inclusion_proof(lo, lo + k, n, hashes)
        sibling, hashes = _subtree_hash(lo + k, hi, hashes)
    else:
        sibling, hashes = _subtree_hash(lo, lo + k, hashes)
        proof, hashes = _inclusion_proof(lo + k, hi, n, hashes)
    return [*proof, sibling], hashes


def _consistency_indexes(lo: int, hi: int, n: int) -> list[int]:
    if n == hi:
        return [] if lo == 0 else _subtree_indexes(lo, hi)
    k = _largest_power_of_two_below(hi - lo)
    if n <= lo + k:
        return _consistency_indexes(lo, lo + k, n) + _subtree_indexes(lo + k, hi)
    return _subtree_indexes(lo, lo + k) + _consistency_indexes(lo + k, hi, n)


def _consistency_proof(lo: int, hi: int, n: int, hashes: list[bytes]) -> tuple[list, list]:
    if n == hi:
        if lo == 0:
            return [], hashes
        subtree, hashes = _subtree_hash(lo, hi, hashes)
        return [subtree], hashes
    k = _largest_power_of_two_below(hi - lo)
    if n <= lo + k:
        proof, hashes = _consistency_proof(lo, lo + k, n, hashes)
        sibling, hashes = _subtree_hash(lo + k, hi, hashes)
    else:
        sibling, hashes = _subtree_hash(lo, lo + k, hashes)
        proof, hashes = _consistency_proof(lo + k, hi, n, hashes)
    return [*proof, sibling], hashes


def _tile_for_index(index: int) -> tuple[Tile, int, int]:
    # The tile, and where in its bytes lie the level-8L hashes stored hash `index` spans.
    level, n = split_stored_hash_index(index)
    tile_level = level // TILE_HEIGHT
    level -= tile_level * TILE_HEIGHT
    tile_index = (n << level) >> TILE_HEIGHT
    n -= (tile_index << TILE_HEIGHT) >> level
    tile = Tile(level=tile_level, index=tile_index, width=(n + 1) << level)
    return tile, (n << level) * HASH_SIZE, ((n + 1) << level) * HASH_SIZE


def _tile_indexes(tile: Tile) -> list[int]:
    start = tile.index << TILE_HEIGHT
    level = TILE_HEIGHT * tile.level
    return [stored_hash_index(level, start + i) for i in range(tile.width)]
