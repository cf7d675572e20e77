"""Time inclusion and consistency proofs as the log grows from 10k to 10M leaves.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/supportpin_bench \\
        .venv/bin/python bench/proof.py --sizes 10000,100000,1000000,10000000

Use a throwaway database: the script migrates it and refuses one that already holds tiles. For
each size it writes the tree's hash tiles as the sealer stores them (one row per tile, the
leaves' hashes bottom-up; no entry rows, which proofs never read), checks that the root read
back through the production reader is the one it built and that a proof verifies against it,
then times proofs read from the stored tiles exactly as the API reads them: the inclusion proof
of a random leaf (`audit.queries.tile_reader` + `merkle.inclusion_proof`), a consistency proof
from a random older size, and what a customer waits for: `GET /api/v1/me/access-log/{id}/proof`
for one of 100 entries placed at random leaves, under a signed checkpoint of that size. It
prints the median and 95th percentile per size and the ratio of the slowest median to the
fastest (the goal: within 1.2x, flat from 10k to 10M).
"""

import argparse
import hashlib
import logging
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportpin.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")  # a throwaway database
os.environ.setdefault("DEBUG", "1")  # the development log key

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from supportpin.accounts.actions import issue_token, sync_customer  # noqa: E402
from supportpin.accounts.models import Customer  # noqa: E402
from supportpin.audit import merkle  # noqa: E402
from supportpin.audit.logkeys import log_signer  # noqa: E402
from supportpin.audit.models import (  # noqa: E402
    ActorKind,
    AuditEntry,
    Event,
    LogCheckpoint,
    LogTile,
)
from supportpin.audit.note import Checkpoint, sign_note  # noqa: E402
from supportpin.audit.queries import tile_reader  # noqa: E402
from supportpin.lib import clock  # noqa: E402

CUSTOMER = "C-90001"


def tiles_of(size: int) -> tuple[dict[tuple[int, int], bytes], bytes]:
    """Every hash tile of a tree of `size` leaves, and its root, computed bottom-up."""
    level_hashes = [hashlib.sha256(b"\x00" + n.to_bytes(8, "big")).digest() for n in range(size)]
    tiles: dict[tuple[int, int], bytes] = {}
    level = 0
    while level_hashes:
        above = []
        for index in range(0, len(level_hashes), merkle.TILE_WIDTH):
            chunk = level_hashes[index : index + merkle.TILE_WIDTH]
            tiles[(level, index >> merkle.TILE_HEIGHT)] = b"".join(chunk)
            if len(chunk) == merkle.TILE_WIDTH:  # a full tile's root is a hash one level up
                above.append(tile_root(chunk))
        level_hashes = above
        level += 1
    return tiles, root_of(size)


def tile_root(hashes: list[bytes]) -> bytes:
    while len(hashes) > 1:
        hashes = [merkle.node_hash(a, b) for a, b in zip(hashes[::2], hashes[1::2], strict=True)]
    return hashes[0]


def root_of(size: int) -> bytes:
    """RFC 9162's root of the same leaves, computed without tiles (an independent check)."""
    stack: list[tuple[int, bytes]] = []  # (leaves under it, hash) of complete subtrees
    for n in range(size):
        node = (1, hashlib.sha256(b"\x00" + n.to_bytes(8, "big")).digest())
        while stack and stack[-1][0] == node[0]:
            left = stack.pop()
            node = (left[0] * 2, merkle.node_hash(left[1], node[1]))
        stack.append(node)
    root = stack.pop()[1]
    while stack:
        root = merkle.node_hash(stack.pop()[1], root)
    return root


def store(tiles: dict[tuple[int, int], bytes]) -> None:
    LogTile.objects.all().delete()
    rows = (
        LogTile(level=level, index=index, data=data, inner=merkle.tile_inner(data))
        for (level, index), data in tiles.items()
    )
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == 2000:
            LogTile.objects.bulk_create(batch)
            batch = []
    LogTile.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {LogTile._meta.db_table}")


def customer_entries(size: int, root: bytes, rng: random.Random) -> list[int]:
    """100 of the customer's entries at random leaves, and the signed checkpoint of `size`."""
    AuditEntry.objects.all().delete()
    LogCheckpoint.objects.all().delete()
    now = clock.now()
    AuditEntry.objects.bulk_create(
        AuditEntry(
            at=now,
            event=Event.PRODUCT_READ,
            actor_kind=ActorKind.SUPPORTER,
            actor="Sam S.",
            customer=CUSTOMER,
            product="gs-1",
            basis="pin",
            leaf_index=leaf,
        )
        for leaf in rng.sample(range(size), 100)
    )
    signer = log_signer()
    text = Checkpoint(origin=signer.name, size=size, root_hash=root).text()
    LogCheckpoint.objects.create(
        size=size, root_hash=root, note=sign_note(text, signer), created_at=now
    )
    return list(AuditEntry.objects.values_list("id", flat=True))


def timed(work, times: int) -> list[float]:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        work()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000,10000000")
    parser.add_argument("--proofs", type=int, default=300)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    if LogTile.objects.exists():
        sys.exit("the database already holds tiles: use a throwaway one")
    print(f"load average: {os.getloadavg()[0]:.1f}")
    rng = random.Random(9)  # noqa: S311 - picks proof positions, no secret
    setup_test_environment()  # the test client's host
    logging.getLogger("supportpin.request").setLevel(logging.WARNING)  # one line per request
    now = clock.now()
    sync_customer(
        number=CUSTOMER,
        name="Bench",
        email="bench@example.invalid",
        password=None,
        phone="",
        address=None,
        now=now,
    )
    customer = Customer.objects.get(number=CUSTOMER)
    token = issue_token(now=now, hours=2, role="customer", customer=customer).token
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    medians = {}
    for size in (int(s) for s in args.sizes.split(",")):
        built = time.perf_counter()
        tiles, root = tiles_of(size)
        store(tiles)
        built = time.perf_counter() - built
        assert merkle.tree_hash(size, tile_reader(size)) == root, "stored tiles, other root"
        leaf = rng.randrange(size)
        proof = merkle.inclusion_proof(leaf, size, tile_reader(size))
        leaf_hash = hashlib.sha256(b"\x00" + leaf.to_bytes(8, "big")).digest()
        assert merkle.verify_inclusion(
            index=leaf, size=size, leaf=leaf_hash, proof=proof, root=root
        ), "a proof from the stored tiles does not verify"

        def inclusion(size: int = size) -> None:
            merkle.inclusion_proof(rng.randrange(size), size, tile_reader(size))

        def consistency(size: int = size) -> None:
            merkle.consistency_proof(rng.randrange(1, size), size, tile_reader(size))

        entries = customer_entries(size, root, rng)

        def download(entries: list[int] = entries) -> None:
            response = client.get(f"/api/v1/me/access-log/{rng.choice(entries)}/proof")
            assert response.status_code == 200, response.content

        timed(inclusion, 20)  # a warm connection, as a running app has
        timed(download, 20)
        results = {"inclusion": timed(inclusion, args.proofs)}
        results["consistency"] = timed(consistency, args.proofs)
        results["GET proof"] = timed(download, args.proofs)
        for kind, samples in results.items():
            median = statistics.median(samples)
            p95 = statistics.quantiles(samples, n=20)[-1]
            medians.setdefault(kind, {})[size] = median
            print(
                f"{size:>10,} leaves ({len(tiles):,} tiles, built in {built:.0f} s): "
                f"{kind:<11} median {median:.2f} ms, p95 {p95:.2f} ms"
            )
    for kind, by_size in medians.items():
        ratio = max(by_size.values()) / min(by_size.values())
        print(f"{kind}: slowest median / fastest = {ratio:.2f}x (goal: at most 1.2x)")
    for model in (LogTile, LogCheckpoint, AuditEntry):
        model.objects.all().delete()


if __name__ == "__main__":
    main()
