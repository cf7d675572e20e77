"""The Merkle tree against the published vectors and an oracle written here from RFC 9162."""

import hashlib
from functools import cache

from django.test import SimpleTestCase

from supportpin.audit import merkle
from supportpin.audit.merkle import Tile
from supportpin.audit.tests.rfc6962_vectors import (
    CONSISTENCY_PROOFS,
    EMPTY_ROOT,
    INCLUSION_PROOFS,
    LEAVES,
    ROOTS,
)

# --- The oracle: RFC 9162 §2.1 definitions, written out naively, sharing no production code ---


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _split(n: int) -> int:
    # The largest power of two smaller than n (n > 1).
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: tuple[bytes, ...]) -> bytes:
    """Return MTH(D[n]) for the leaf data `leaves` (RFC 9162 §2.1.1)."""
    if not leaves:
        return _h(b"")
    if len(leaves) == 1:
        return _h(b"\x00" + leaves[0])
    k = _split(len(leaves))
    return _h(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def path(m: int, leaves: tuple[bytes, ...]) -> list[bytes]:
    """Return PATH(m, D[n]) (RFC 9162 §2.1.3.1)."""
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def subproof(m: int, leaves: tuple[bytes, ...], b: bool) -> list[bytes]:
    """Return SUBPROOF(m, D[n], b) (RFC 9162 §2.1.4.1)."""
    n = len(leaves)
    if m == n:
        return [] if b else [mth(leaves)]
    k = _split(n)
    if m <= k:
        return [*subproof(m, leaves[:k], b), mth(leaves[k:])]
    return [*subproof(m - k, leaves[k:], False), mth(leaves[:k])]


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes]) -> bytes | None:
    """Return the root that `proof` leads to from leaf hash `leaf`, walking PATH backwards."""
    if size == 1:
        return None if proof else leaf
    if not proof:
        return None
    *rest, last = proof
    k = _split(size)
    if index < k:
        below = root_from_inclusion(index, k, leaf, rest)
        return None if below is None else _h(b"\x01" + below + last)
    below = root_from_inclusion(index - k, size - k, leaf, rest)
    return None if below is None else _h(b"\x01" + last + below)


def roots_from_consistency(
    m: int, n: int, old_root: bytes, proof: list[bytes], b: bool = True
) -> tuple[bytes, bytes] | None:
    """Return the (old, new) roots `proof` leads to, walking SUBPROOF backwards."""
    if m == n:
        if b:
            return None if proof else (old_root, old_root)
        return (proof[0], proof[0]) if len(proof) == 1 else None
    if not proof:
        return None
    *rest, last = proof
    k = _split(n)
    if m <= k:
        below = roots_from_consistency(m, k, old_root, rest, b)
        return None if below is None else (below[0], _h(b"\x01" + below[1] + last))
    below = roots_from_consistency(m - k, n - k, old_root, rest, False)
    if below is None:
        return None
    return _h(b"\x01" + last + below[0]), _h(b"\x01" + last + below[1])


class StoredHashList:
    """Stored hashes in a list, counting the hashes proofs read."""

    def __init__(self):
        self.hashes: list[bytes] = []
        self.reads = 0

    def read_hashes(self, indexes):
        self.reads += len(indexes)
        return [self.hashes[i] for i in indexes]

    def append(self, leaves) -> None:
        size = self.leaf_count()
        new = merkle.stored_hashes(size, [merkle.leaf_hash(leaf) for leaf in leaves], self)
        self.hashes.extend(new)

    def leaf_count(self) -> int:
        size = 0
        while merkle.stored_hash_count(size) < len(self.hashes):
            size += 1
        return size


def tree_of(leaves, batches=(1,)) -> StoredHashList:
    """Return the stored hashes of `leaves`, appended in batches of the sizes given, in turn."""
    tree = StoredHashList()
    start, turn = 0, 0
    while start < len(leaves):
        size = batches[turn % len(batches)]
        tree.append(leaves[start : start + size])
        start, turn = start + size, turn + 1
    return tree


@cache
def numbered_leaves(count: int) -> tuple[bytes, ...]:
    return tuple(f"entry {i}".encode() for i in range(count))


class PublishedVectorTests(SimpleTestCase):
    def test_it_computes_the_published_roots_of_sizes_0_to_8(self):
        tree = tree_of(LEAVES)
        for size, root in enumerate(ROOTS):
            self.assertEqual(merkle.tree_hash(size, tree), root, size)
        self.assertEqual(merkle.EMPTY_ROOT, EMPTY_ROOT)

    def test_it_proves_inclusion_as_published(self):
        tree = tree_of(LEAVES)
        for index, size, proof in INCLUSION_PROOFS:
            self.assertEqual(merkle.inclusion_proof(index, size, tree), proof, (index, size))
            leaf = merkle.leaf_hash(LEAVES[index])
            self.assertTrue(
                merkle.verify_inclusion(
                    index=index, size=size, leaf=leaf, proof=proof, root=ROOTS[size]
                )
            )
            self.assertEqual(root_from_inclusion(index, size, leaf, proof), ROOTS[size])

    def test_it_proves_consistency_as_published(self):
        tree = tree_of(LEAVES)
        for old, new, proof in CONSISTENCY_PROOFS:
            self.assertEqual(merkle.consistency_proof(old, new, tree), proof, (old, new))
            self.assertTrue(
                merkle.verify_consistency(
                    old_size=old,
                    new_size=new,
                    old_root=ROOTS[old],
                    new_root=ROOTS[new],
                    proof=proof,
                )
            )
            self.assertEqual(
                roots_from_consistency(old, new, ROOTS[old], proof), (ROOTS[old], ROOTS[new])
            )

    def test_it_refuses_the_published_proofs_once_altered(self):
        for index, size, proof in INCLUSION_PROOFS[1:]:
            leaf = merkle.leaf_hash(LEAVES[index])
            for altered in self.alterations(proof):
                self.assertFalse(
                    merkle.verify_inclusion(
                        index=index, size=size, leaf=leaf, proof=altered, root=ROOTS[size]
                    )
                )
            self.assertFalse(
                merkle.verify_inclusion(
                    index=index, size=size, leaf=leaf, proof=proof, root=ROOTS[size - 1]
                )
            )
            self.assertFalse(
                merkle.verify_inclusion(
                    index=index,
                    size=size,
                    leaf=merkle.leaf_hash(b"x"),
                    proof=proof,
                    root=ROOTS[size],
                )
            )
        for old, new, proof in CONSISTENCY_PROOFS[1:]:
            for altered in self.alterations(proof):
                self.assertFalse(
                    merkle.verify_consistency(
                        old_size=old,
                        new_size=new,
                        old_root=ROOTS[old],
                        new_root=ROOTS[new],
                        proof=altered,
                    )
                )
            # Roots swapped, or the new root of a tree that is one leaf shorter: refused.
            self.assertFalse(
                merkle.verify_consistency(
                    old_size=old,
                    new_size=new,
                    old_root=ROOTS[new],
                    new_root=ROOTS[old],
                    proof=proof,
                )
            )
            self.assertFalse(
                merkle.verify_consistency(
                    old_size=old,
                    new_size=new,
                    old_root=ROOTS[old],
                    new_root=ROOTS[new - 1],
                    proof=proof,
                )
            )

    @staticmethod
    def alterations(proof):
        """Yield the proof with each hash changed, one dropped, one added, and reversed."""
        for i in range(len(proof)):
            changed = bytearray(proof[i])
            changed[0] ^= 1
            yield [*proof[:i], bytes(changed), *proof[i + 1 :]]
        yield proof[:-1]
        yield [*proof, proof[-1]]
        yield [ROOTS[1], *proof]
        if len(set(proof)) > 1:
            yield proof[::-1]


class OracleTests(SimpleTestCase):
    """Every proof of every tree up to 70 leaves, against the RFC's own definitions."""

    size = 70

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.leaves = numbered_leaves(cls.size)
        # Appended in uneven batches, so stored_hashes joins new and stored hashes at all offsets.
        cls.tree = tree_of(cls.leaves, batches=(1, 3, 2, 7, 5, 11))
        cls.roots = [mth(cls.leaves[:n]) for n in range(cls.size + 1)]

    def test_it_stores_the_same_hashes_whatever_the_batches(self):
        self.assertEqual(tree_of(self.leaves, batches=(self.size,)).hashes, self.tree.hashes)
        self.assertEqual(len(self.tree.hashes), merkle.stored_hash_count(self.size))

    def test_it_computes_every_root(self):
        for n in range(self.size + 1):
            self.assertEqual(merkle.tree_hash(n, self.tree), self.roots[n], n)

    def test_it_proves_every_leaf_in_every_tree(self):
        for n in range(1, self.size + 1):
            for m in range(n):
                proof = merkle.inclusion_proof(m, n, self.tree)
                self.assertEqual(proof, path(m, self.leaves[:n]), (m, n))
                leaf = merkle.leaf_hash(self.leaves[m])
                self.assertEqual(root_from_inclusion(m, n, leaf, proof), self.roots[n])
                self.assertTrue(
                    merkle.verify_inclusion(
                        index=m, size=n, leaf=leaf, proof=proof, root=self.roots[n]
                    )
                )
                # The same proof does not place the leaf anywhere else.
                for other in {m - 1, m + 1} & set(range(n)):
                    self.assertFalse(
                        merkle.verify_inclusion(
                            index=other, size=n, leaf=leaf, proof=proof, root=self.roots[n]
                        ),
                        (m, other, n),
                    )

    def test_it_proves_every_tree_consistent_with_every_later_one(self):
        for n in range(1, self.size + 1):
            for m in range(1, n + 1):
                proof = merkle.consistency_proof(m, n, self.tree)
                self.assertEqual(proof, subproof(m, self.leaves[:n], True), (m, n))
                roots = (self.roots[m], self.roots[n])
                self.assertEqual(roots_from_consistency(m, n, self.roots[m], proof), roots)
                self.assertTrue(
                    merkle.verify_consistency(
                        old_size=m, new_size=n, old_root=roots[0], new_root=roots[1], proof=proof
                    )
                )
                if m > 1:
                    # A tree cut short by one leaf is not the tree the old checkpoint signed.
                    self.assertFalse(
                        merkle.verify_consistency(
                            old_size=m,
                            new_size=n,
                            old_root=self.roots[m - 1],
                            new_root=roots[1],
                            proof=proof,
                        )
                    )

    def test_it_reads_logarithmically_many_hashes_for_a_proof(self):
        tree = self.tree
        for m, n in [(0, 70), (37, 70), (69, 70), (1, 64)]:
            tree.reads = 0
            merkle.inclusion_proof(m, n, tree)
            self.assertLessEqual(tree.reads, 2 * n.bit_length())
            tree.reads = 0
            merkle.consistency_proof(m + 1, n, tree)
            self.assertLessEqual(tree.reads, 2 * n.bit_length())

    def test_it_refuses_proofs_outside_the_tree(self):
        for call in [
            lambda: merkle.inclusion_proof(5, 5, self.tree),
            lambda: merkle.inclusion_proof(-1, 5, self.tree),
            lambda: merkle.consistency_proof(0, 5, self.tree),
            lambda: merkle.consistency_proof(6, 5, self.tree),
        ]:
            with self.assertRaises(merkle.ProofError):
                call()


class StoredHashIndexTests(SimpleTestCase):
    def test_it_numbers_hashes_in_the_order_appending_creates_them(self):
        # Go's tlog: leaf 0, leaf 1, their parent, leaf 2, leaf 3, (2,3), ((0,1),(2,3)), leaf 4.
        order = [(0, 0), (0, 1), (1, 0), (0, 2), (0, 3), (1, 1), (2, 0), (0, 4)]
        for index, (level, n) in enumerate(order):
            self.assertEqual(merkle.stored_hash_index(level, n), index)
            self.assertEqual(merkle.split_stored_hash_index(index), (level, n))

    def test_it_splits_every_index_back(self):
        for index in range(5000):
            level, n = merkle.split_stored_hash_index(index)
            self.assertEqual(merkle.stored_hash_index(level, n), index)


class TilePathTests(SimpleTestCase):
    def test_it_spells_paths_as_the_c2sp_spec(self):
        # C2SP tlog-tiles: "index 1234067 will be encoded as x001/x234/067".
        self.assertEqual(Tile(level=0, index=1234067).path, "tile/0/x001/x234/067")
        self.assertEqual(Tile(level=2, index=0).path, "tile/2/000")
        self.assertEqual(Tile(level=1, index=1000, width=17).path, "tile/1/x001/000.p/17")
        self.assertEqual(Tile(level=0, index=5, width=255).path, "tile/0/005.p/255")

    def test_it_reads_back_the_tile_a_path_names(self):
        for tile in [Tile(0, 1234067), Tile(3, 0, 1), Tile(1, 999, 200), Tile(63, 10**9)]:
            self.assertEqual(Tile.from_path(tile.path), tile)

    def test_it_refuses_what_is_not_a_tile_path(self):
        for path in [
            "tile/0/1234067",
            "tile/0/x001/234/067",
            "tile/0/x000/001",
            "tile/0/01",
            "tile/00/000",
            "tile/-1/000",
            "tile/64/000",
            "tile/0/000.p/256",
            "tile/0/000.p/0",
            "tile/0/000.p/017",
            "tile/0/000.p/",
            "tile/0/000.p",
            "tile/entries/000",
            "tile/0/x001",
            "tiles/0/000",
            "tile/0/000/",
            "",
        ]:
            with self.assertRaises(ValueError, msg=path):
                Tile.from_path(path)

    def test_it_lists_the_tiles_of_the_c2sp_example_tree_of_70000_entries(self):
        # "273 full level 0 tiles, one partial level 0 tile of width 112, one full level 1
        # tile, one partial level 1 tile of width 17, and one partial level 2 tile of width 1."
        tiles = merkle.new_tiles(0, 70_000)
        expected = [Tile(0, n) for n in range(273)] + [
            Tile(0, 273, 112),
            Tile(1, 0),
            Tile(1, 1, 17),
            Tile(2, 0, 1),
        ]
        self.assertEqual(tiles, expected)
        # "a tree of size 256 will be represented by a full level 0 tile and a partial level 1
        # tile of width 1."
        self.assertEqual(merkle.new_tiles(0, 256), [Tile(0, 0), Tile(1, 0, 1)])

    def test_it_lists_only_the_tiles_that_grow(self):
        self.assertEqual(merkle.new_tiles(100, 101), [Tile(0, 0, 101)])
        self.assertEqual(merkle.new_tiles(255, 257), [Tile(0, 0), Tile(0, 1, 1), Tile(1, 0, 1)])
        self.assertEqual(merkle.new_tiles(300, 300), [])


class TileStore:
    """Tiles kept as the database will: one row per tile, replaced as it grows."""

    def __init__(self):
        self.tiles: dict[tuple[int, int], bytes] = {}
        self.inner: dict[tuple[int, int], bytes] = {}
        self.size = 0
        self.reads: list[list[merkle.HashPlace]] = []

    def read_places(self, places: list[merkle.HashPlace]) -> list[bytes]:
        self.reads.append(places)
        stored = [(self.inner if p.inner else self.tiles).get((p.level, p.index)) for p in places]
        return [(s or b"")[p.offset : p.offset + 32] for s, p in zip(stored, places, strict=True)]

    def reader(self, size: int | None = None) -> merkle.TileHashReader:
        return merkle.TileHashReader(self.size if size is None else size, self.read_places)

    def append(self, leaves) -> None:
        reader = self.reader()
        new = merkle.stored_hashes(self.size, [merkle.leaf_hash(leaf) for leaf in leaves], reader)
        grown = self.size + len(leaves)
        for tile, data in merkle.append_tiles(self.size, new, grown, reader):
            self.tiles[(tile.level, tile.index)] = data
            self.inner[tile.level, tile.index] = merkle.tile_inner(data)
        self.size = grown


@cache
def range_hash(lo: int, hi: int, count: int) -> bytes:
    """Return MTH of leaves lo..hi of numbered_leaves(count), by the oracle."""
    return mth(numbered_leaves(count)[lo:hi])


class TileTests(SimpleTestCase):
    """A tree of 70,000 leaves (three tile levels) kept only as tiles, grown in uneven batches."""

    size = 70_000

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.leaves = numbered_leaves(cls.size)
        cls.store = TileStore()
        cls.sizes_sealed = []
        start = 0
        for batch in [1, 254, 1, 1, 300, 65_000, 4_443]:
            cls.store.append(cls.leaves[start : start + batch])
            start += batch
            cls.sizes_sealed.append(start)
        assert start == cls.size

    def test_it_keeps_the_hashes_the_spec_defines(self):
        # C2SP: the n-th tile at level l holds MTH(D[(n*256+i)*256**l : (n*256+i+1)*256**l]).
        for (level, n), data in self.store.tiles.items():
            span = 256**level
            width = len(data) // 32
            self.assertEqual(width, min(256, self.size // span - n * 256), (level, n))
            for i in [0, width // 2, width - 1]:
                lo = (n * 256 + i) * span
                self.assertEqual(
                    data[i * 32 : (i + 1) * 32],
                    self.oracle_hash(lo, lo + span),
                    (level, n, i),
                )

    def test_it_proves_from_tiles_at_every_sealed_size(self):
        for n in self.sizes_sealed:
            root = self.oracle_hash(0, n)
            reader = self.store.reader(n)
            self.assertEqual(merkle.tree_hash(n, reader), root, n)
            for m in sorted({0, n // 3, n // 2, n - 1}):
                proof = merkle.inclusion_proof(m, n, reader)
                leaf = merkle.leaf_hash(self.leaves[m])
                self.assertEqual(root_from_inclusion(m, n, leaf, proof), root, (m, n))
            for old in sorted({1, n // 2, n - 1, n} - {0}):
                proof = merkle.consistency_proof(old, n, reader)
                self.assertEqual(
                    roots_from_consistency(old, n, self.oracle_hash(0, old), proof),
                    (self.oracle_hash(0, old), root),
                    (old, n),
                )

    def test_it_reads_a_proof_from_few_tiles_in_one_call(self):
        self.store.reads.clear()
        merkle.inclusion_proof(12_345, self.size, self.store.reader())
        merkle.consistency_proof(40_000, self.size, self.store.reader())
        self.assertEqual(len(self.store.reads), 2)
        for places in self.store.reads:
            # O(log n): at most two hashes per level of the tree (17 levels), from at most
            # two tiles per tile level (3).
            self.assertLessEqual(len(places), 2 * 17)
            self.assertLessEqual(len({(p.level, p.index) for p in places}), 6)

    def test_it_keeps_beside_each_tile_the_subtree_hashes_inside_it(self):
        # Tile 0/1 holds leaves 256..511: at level k, its p-th inner hash covers 2^k of them.
        inner = self.store.inner[0, 1]
        place = 0
        for k in range(1, 8):
            for p in range(256 >> k):
                lo = 256 + (p << k)
                expected = self.oracle_hash(lo, lo + (1 << k))
                self.assertEqual(inner[(place + p) * 32 : (place + p + 1) * 32], expected, (k, p))
            place += 256 >> k
        self.assertEqual(len(inner), place * 32)

    def test_it_reads_a_partial_tile_as_the_prefix_of_the_full_one(self):
        full = self.store.tiles[(0, 0)]
        partial = merkle.tile_data(Tile(0, 0, 3), self.store.reader())
        self.assertEqual(partial, full[: 3 * 32])

    def test_it_reads_an_inner_hash_where_the_tile_keeps_it(self):
        # Stored hash 2 is the parent of leaves 0 and 1: the first inner hash of tile 0/0.
        self.assertEqual(merkle.hash_place(2), merkle.HashPlace(0, 0, inner=True, offset=0))
        self.assertEqual(self.store.reader(3).read_hashes([2]), [self.oracle_hash(0, 2)])
        # Stored hash 3 is leaf 2: the third hash of the tile itself.
        self.assertEqual(merkle.hash_place(3), merkle.HashPlace(0, 0, inner=False, offset=64))

    def test_it_refuses_a_tile_stored_without_its_inner_hashes(self):
        store = TileStore()
        store.append(self.leaves[:300])
        store.inner.clear()
        with self.assertRaises(merkle.ProofError):
            merkle.inclusion_proof(7, 300, store.reader())

    def test_it_refuses_hashes_beyond_the_tree(self):
        reader = self.store.reader(10)
        with self.assertRaises(merkle.ProofError):
            reader.read_hashes([merkle.stored_hash_index(0, 10)])

    def oracle_hash(self, lo: int, hi: int) -> bytes:
        # Split at powers of two as MTH does, so the cache shares the aligned subtrees.
        if hi - lo <= 256:
            return range_hash(lo, hi, self.size)
        k = _split(hi - lo)
        return _h(b"\x01" + self.oracle_hash(lo, lo + k) + self.oracle_hash(lo + k, hi))
