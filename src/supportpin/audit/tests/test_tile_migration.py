import hashlib

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import TransactionTestCase

from supportpin.audit.merkle import TileHashReader, inclusion_proof, verify_inclusion
from supportpin.audit.queries import read_places

BEFORE = [("audit", "0011_account_reset_events")]
AFTER = [("audit", "0012_tile_inner_hashes")]


def leaf(n: int) -> bytes:
    return hashlib.sha256(b"\x00" + n.to_bytes(2, "big")).digest()


def root(lo: int, hi: int) -> bytes:
    """RFC 9162 MTH of leaves lo..hi, computed here (hi - lo a power of two)."""
    if hi - lo == 1:
        return leaf(lo)
    half = (hi - lo) // 2
    return hashlib.sha256(b"\x01" + root(lo, lo + half) + root(lo + half, hi)).digest()


class TileMigrationTests(TransactionTestCase):
    """A log sealed before tiles kept their inner hashes still proves its entries after it."""

    def migrate(self, targets):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(targets)
        return executor.loader.project_state(targets).apps

    def tearDown(self):
        self.migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    def test_it_fills_in_the_inner_hashes_of_the_tiles_already_stored(self):
        old = self.migrate(BEFORE)
        old.get_model("audit", "LogTile").objects.create(
            level=0, index=0, data=b"".join(leaf(n) for n in range(256))
        )

        self.migrate(AFTER)

        reader = TileHashReader(256, read_places)
        proof = inclusion_proof(77, 256, reader)
        self.assertTrue(
            verify_inclusion(index=77, size=256, leaf=leaf(77), proof=proof, root=root(0, 256))
        )
