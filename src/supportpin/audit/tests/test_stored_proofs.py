"""Proofs read from the tiles in the database, across tile edges, checked by the test oracle."""

from django.test import TestCase

from supportpin.audit.actions import append_leaves
from supportpin.audit.logkeys import log_signer
from supportpin.audit.merkle import consistency_proof, inclusion_proof
from supportpin.audit.models import AuditEntry, LogCheckpoint
from supportpin.audit.note import Checkpoint, sign_note
from supportpin.audit.queries import entry_proof, log_consistency, tile_reader
from supportpin.audit.tests.test_merkle import (
    _h,
    mth,
    numbered_leaves,
    root_from_inclusion,
    roots_from_consistency,
)
from testsupport import START

# Just short of, at and just past a full tile (256 leaves) and a full level-1 tile (65,536).
SIZES = [255, 256, 257, 65_535, 65_536, 65_537]


class StoredTileProofTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.leaves = numbered_leaves(SIZES[-1])
        cls.roots = {n: mth(cls.leaves[:n]) for n in SIZES}
        size = 0
        signer = log_signer()
        for n in SIZES:
            # The sealer's own tile writing; leaf hashes made here, as RFC 9162 defines them.
            root = append_leaves(size, [_h(b"\x00" + leaf) for leaf in cls.leaves[size:n]])
            note = sign_note(Checkpoint(origin=signer.name, size=n, root_hash=root).text(), signer)
            LogCheckpoint.objects.create(size=n, root_hash=root, note=note, created_at=START)
            size = n

    def test_it_proves_inclusion_at_every_size_from_the_stored_tiles(self):
        for n in SIZES:
            reader = tile_reader(n)
            for m in sorted({0, 1, 254, 255, 256, n // 2, 65_534, 65_535, 65_536, n - 1}):
                if m >= n:
                    continue
                proof = inclusion_proof(m, n, reader)
                leaf = _h(b"\x00" + self.leaves[m])
                self.assertEqual(root_from_inclusion(m, n, leaf, proof), self.roots[n], (m, n))

    def test_it_proves_every_size_consistent_with_every_later_one(self):
        for n in SIZES:
            reader = tile_reader(n)
            for m in [1, 2, 128, *SIZES]:
                if m > n:
                    continue
                old_root = self.roots[m] if m in self.roots else mth(self.leaves[:m])
                proof = consistency_proof(m, n, reader)
                self.assertEqual(
                    roots_from_consistency(m, n, old_root, proof), (old_root, self.roots[n]), (m, n)
                )

    def test_it_answers_a_proof_in_the_same_two_queries_at_any_size(self):
        # The newest checkpoint, then every hash the proof needs at once.
        with self.assertNumQueries(2):
            checkpoint, proof = entry_proof(AuditEntry(leaf_index=65_536))
        self.assertEqual(checkpoint.size, 65_537)
        leaf = _h(b"\x00" + self.leaves[65_536])
        self.assertEqual(root_from_inclusion(65_536, 65_537, leaf, proof), self.roots[65_537])
        with self.assertNumQueries(2):
            proof = log_consistency(255, 65_537)
        self.assertEqual(
            roots_from_consistency(255, 65_537, self.roots[255], proof),
            (self.roots[255], self.roots[65_537]),
        )
