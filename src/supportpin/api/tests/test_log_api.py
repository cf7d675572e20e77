"""The transparency log's endpoints, checked with a verifier written here from RFC 9162."""

import base64
import hashlib
import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.test import override_settings

from supportpin.audit.actions import seal
from supportpin.audit.models import AuditEntry, LogCheckpoint
from supportpin.audit.note import Signer
from testsupport import START, SupportPinTestCase

SIGNING_KEY = Signer.generate("support.example.com/log")


def h_leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def h_node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """The largest power of two smaller than n (RFC 9162 §2.1.1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: list[bytes]) -> bytes:
    if len(leaves) == 1:
        return leaves[0]
    k = split(len(leaves))
    return h_node(mth(leaves[:k]), mth(leaves[k:]))


def root_from_path(m: int, n: int, leaf: bytes, proof: list[bytes]) -> bytes:
    """Rebuild the root from PATH(m, D[n]) (RFC 9162 §2.1.3.1): the deepest sibling first."""
    if n == 1:
        if proof:
            raise AssertionError("the proof is too long")
        return leaf
    if not proof:
        raise AssertionError("the proof is too short")
    k, sibling = split(n), proof[-1]
    if m < k:
        return h_node(root_from_path(m, k, leaf, proof[:-1]), sibling)
    return h_node(sibling, root_from_path(m - k, n - k, leaf, proof[:-1]))


def subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 9162 §2.1.4.1, over leaf hashes."""
    n = len(leaves)
    if m == n:
        return [] if whole else [mth(leaves)]
    k = split(n)
    if m <= k:
        return [*subproof(m, leaves[:k], whole), mth(leaves[k:])]
    return [*subproof(m - k, leaves[k:], False), mth(leaves[:k])]


def b64(items: list[bytes]) -> list[str]:
    return [base64.b64encode(i).decode() for i in items]


@override_settings(SUPPORTPIN_LOG_SIGNING_KEY=str(SIGNING_KEY), SUPPORTPIN_LOG_PUBLIC_KEYS=[])
class LogEndpointTestCase(SupportPinTestCase):
    def setUp(self):
        super().setUp()
        self.grant = self.redeem(self.current_pin()).json()
        self.supporter_token = self.token_for(self.supporter)
        for product in ("gs-1", "vs-1", "gs-1"):
            self.get(f"/support/products/{product}", self.supporter_token)
        self.other_pin = self.current_pin(self.other_customer)
        seal(now=START)
        self.customer_token = self.token_for(self.customer)

    def leaf_hashes(self) -> list[bytes]:
        """Every sealed entry's leaf hash, from the entry's own fields, in leaf order."""
        leaves = []
        for e in AuditEntry.objects.filter(leaf_index__isnull=False).order_by("leaf_index"):
            fields = {
                "id": e.id,
                "at": e.at.isoformat(),
                "event": e.event,
                "actor_kind": e.actor_kind,
                "actor": e.actor,
                "customer": e.customer,
                "product": e.product,
                "basis": e.basis,
                "grant": e.grant_id,
                "ticket": e.ticket_id,
                "detail": e.detail,
            }
            canonical = json.dumps(
                fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False
            )
            leaves.append(h_leaf(canonical.encode()))
        return leaves

    def checkpoint(self) -> tuple[int, bytes]:
        """Return the served checkpoint's size and root, checked with the served key."""
        note = self.get("/log/checkpoint").content.decode()
        vkey = self.get("/log/public-key").content.decode()
        name, key_hash, key = vkey.split("+", 2)
        text, signature_line = note.split("\n\n")
        self.assertEqual(signature_line.split(" ")[:2], ["—", name])
        blob = base64.b64decode(signature_line.split(" ")[2])
        self.assertEqual(blob[:4].hex(), key_hash)
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key)[1:])
        public.verify(blob[4:], (text + "\n").encode())  # raises if the signature is bad
        origin, size, root = text.split("\n")
        self.assertEqual(origin, name)
        return int(size), base64.b64decode(root)


class CheckpointTests(LogEndpointTestCase):
    def test_it_serves_the_newest_checkpoint_signed_over_the_root_of_all_entries(self):
        response = self.get("/log/checkpoint")

        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "text/plain; charset=utf-8")
        size, root = self.checkpoint()
        leaves = self.leaf_hashes()
        self.assertEqual((size, root), (len(leaves), mth(leaves)))

    def test_it_serves_the_public_key_in_note_verifier_format(self):
        response = self.get("/log/public-key")

        self.assertEqual(response.content.decode(), str(SIGNING_KEY.verifier))

    def test_it_serves_the_signed_empty_tree_before_the_first_seal(self):
        LogCheckpoint.objects.all().delete()

        self.assertEqual(self.get("/log/checkpoint").status_code, 200)
        self.assertEqual(self.checkpoint(), (0, hashlib.sha256(b"").digest()))


class ConsistencyTests(LogEndpointTestCase):
    def test_it_proves_an_older_tree_a_prefix_of_the_newest(self):
        size, _root = self.checkpoint()
        leaves = self.leaf_hashes()
        for old in (1, 2, 3, size // 2, size - 1, size):
            with self.subTest(old=old):
                response = self.get(f"/log/consistency?from={old}&to={size}")
                self.assertEqual(response.status_code, 200)
                self.assertEqual(
                    response.json(),
                    {"from": old, "to": size, "proof": b64(subproof(old, leaves, True))},
                )

    def test_it_refuses_sizes_outside_the_log(self):
        size, _ = self.checkpoint()
        for query in (f"from=0&to={size}", f"from=1&to={size + 1}", "from=3&to=2", "from=x&to=2"):
            with self.subTest(query=query):
                self.assertProblem(self.get(f"/log/consistency?{query}"), 422, "invalid")


class TileTests(LogEndpointTestCase):
    def test_it_serves_the_partial_leaf_tile_as_the_leaf_hashes(self):
        leaves = self.leaf_hashes()

        response = self.get(f"/log/tile/0/000.p/{len(leaves)}")

        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, b"".join(leaves))
        self.assertEqual(self.get("/log/tile/0/000.p/2").content, b"".join(leaves[:2]))

    def test_it_serves_no_tile_the_tree_does_not_have_nor_entry_tiles(self):
        size = len(self.leaf_hashes())
        for path in (
            "tile/0/000",
            f"tile/0/000.p/{size + 1}",
            "tile/0/001.p/1",
            "tile/1/000.p/1",
            "tile/entries/000.p/1",
            "tile/0/0.p/1",
            "../checkpoint",
        ):
            with self.subTest(path=path):
                self.assertProblem(self.get(f"/log/{path}"), 404, "not_found")


class EntryProofTests(LogEndpointTestCase):
    def my_entries(self) -> list[dict]:
        return self.get("/me/access-log", self.customer_token).json()

    def test_it_marks_each_entry_with_its_place_in_the_log(self):
        entries = self.my_entries()

        self.assertTrue(entries)
        indexes = [e["leaf_index"] for e in entries]
        self.assertTrue(all(e["sealed"] for e in entries))
        self.assertEqual(len(set(indexes)), len(indexes))
        self.assertTrue(all(isinstance(e["id"], int) for e in entries))

    def test_it_proves_my_entry_is_in_the_signed_tree(self):
        size, root = self.checkpoint()
        for entry in self.my_entries():
            with self.subTest(entry=entry["id"]):
                response = self.get(f"/me/access-log/{entry['id']}/proof", self.customer_token)
                self.assertEqual(response.status_code, 200)
                body = response.json()
                leaf = base64.b64decode(body["leaf"])
                self.assertEqual(json.loads(leaf)["id"], entry["id"])
                self.assertEqual(body["leaf_index"], entry["leaf_index"])
                self.assertEqual(body["checkpoint"], self.get("/log/checkpoint").content.decode())
                proof = [base64.b64decode(p) for p in body["proof"]]
                self.assertEqual(
                    root_from_path(body["leaf_index"], size, h_leaf(leaf), proof), root
                )

    def test_it_refuses_a_proof_before_the_entry_is_sealed(self):
        self.get("/support/products/vs-1", self.supporter_token)
        newest = self.my_entries()[0]
        self.assertFalse(newest["sealed"])
        self.assertIsNone(newest["leaf_index"])

        response = self.get(f"/me/access-log/{newest['id']}/proof", self.customer_token)

        self.assertProblem(response, 409, "not_sealed_yet")

    def test_it_hides_another_customers_entry(self):
        theirs = AuditEntry.objects.filter(customer=self.other_customer.pk).first()
        self.assertIsNotNone(theirs)

        response = self.get(f"/me/access-log/{theirs.pk}/proof", self.customer_token)

        self.assertProblem(response, 404, "not_found")
        self.assertProblem(
            self.get("/me/access-log/999999/proof", self.customer_token), 404, "not_found"
        )

    def test_it_gives_proofs_to_customers_only(self):
        entry = self.my_entries()[0]

        self.assertProblem(
            self.get(f"/me/access-log/{entry['id']}/proof", self.supporter_token), 403, "forbidden"
        )
        self.assertEqual(self.get(f"/me/access-log/{entry['id']}/proof").status_code, 401)
