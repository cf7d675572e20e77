"""Time inclusion and consistency proofs as the log grows from 10k to 10M leaves.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/supportpin_bench \\
        .venv/bin/python bench/proof.py --sizes 10000,100000,1000000,10000000

It makes one database per size next to the one DATABASE_URL names (<name>_10000, ...; made
anew each run, dropped at the end). For each size it writes the tree's hash tiles as the sealer
stores them (one row per tile, the leaves' hashes bottom-up; no entry rows, which proofs never
read), checks that the root read back through the production reader is the one it built and
that a proof verifies against it,
then times proofs read from the stored tiles exactly as the API reads them: the inclusion proof
of a random leaf (`audit.queries.tile_reader` + `merkle.inclusion_proof`), a consistency proof
from a random older size, and what a customer waits for: `GET /api/v1/me/access-log/{id}/proof`
for one of 100 entries placed at random leaves, under a signed checkpoint of that size. It
prints the median and 95th percentile per size and the ratio of the slowest median to the
fastest (the goal: within 1.2x, flat from 10k to 10M). The sizes take turns over --rounds
rounds, so a change in the machine's load falls on all of them alike.
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
# One connection kept open and pointed at one tree's database after another (no pool).
os.environ.setdefault("SUPPORTPIN_DB_POOL", "0")
os.environ.setdefault("CONN_MAX_AGE", "600")

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


def use_database(name: str) -> None:
    """Point the app's one connection at database `name` (a tree of one size)."""
    connection.close()
    connection.settings_dict["NAME"] = name


def build(size: int, rng: random.Random) -> tuple[str, list[int]]:
    """Store the tree of `size` leaves with the customer's entries; return a token, entry ids."""
    started = time.perf_counter()
    tiles, root = tiles_of(size)
    call_command("migrate", verbosity=0)
    store(tiles)
    assert merkle.tree_hash(size, tile_reader(size)) == root, "stored tiles, other root"
    leaf = rng.randrange(size)
    proof = merkle.inclusion_proof(leaf, size, tile_reader(size))
    leaf_hash = hashlib.sha256(b"\x00" + leaf.to_bytes(8, "big")).digest()
    assert merkle.verify_inclusion(index=leaf, size=size, leaf=leaf_hash, proof=proof, root=root), (
        "a proof from the stored tiles does not verify"
    )
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
    entries = customer_entries(size, root, rng)
    print(
        f"{size:>10,} leaves: {len(tiles):,} tiles, built in {time.perf_counter() - started:.0f} s"
    )
    return token, entries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000,10000000")
    parser.add_argument("--proofs", type=int, default=300, help="per size and kind")
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = random.Random(9)  # noqa: S311 - picks proof positions, no secret
    setup_test_environment()  # the test client's host
    logging.getLogger("supportpin.request").setLevel(logging.WARNING)  # one line per request
    base = connection.settings_dict["NAME"]
    trees = {}
    for size in sizes:
        name = f"{base}_{size}"
        use_database(base)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name}")
            cursor.execute(f"CREATE DATABASE {name}")
        use_database(name)
        trees[size] = (name, *build(size, rng))
    # Rounds in turn, sizes in a new order each round: the machine's load moves all alike.
    samples: dict[str, dict[int, list[float]]] = {}
    per_round = max(args.proofs // args.rounds, 1)
    for _ in range(args.rounds):
        for size in rng.sample(sizes, len(sizes)):
            name, token, entries = trees[size]
            use_database(name)
            client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

            def inclusion(size: int = size) -> None:
                merkle.inclusion_proof(rng.randrange(size), size, tile_reader(size))

            def consistency(size: int = size) -> None:
                merkle.consistency_proof(rng.randrange(1, size), size, tile_reader(size))

            def download(client: Client = client, entries: list[int] = entries) -> None:
                response = client.get(f"/api/v1/me/access-log/{rng.choice(entries)}/proof")
                assert response.status_code == 200, response.content

            timed(download, 10)  # a warm connection and cache, as a running app has
            for kind, work in (
                ("inclusion", inclusion),
                ("consistency", consistency),
                ("GET proof", download),
            ):
                samples.setdefault(kind, {}).setdefault(size, []).extend(timed(work, per_round))
    print(f"load average: {os.getloadavg()[0]:.1f}")
    for kind, by_size in samples.items():
        medians = {size: statistics.median(times) for size, times in by_size.items()}
        for size, times in by_size.items():
            p95 = statistics.quantiles(times, n=20)[-1]
            print(f"{kind:<11} {size:>10,} leaves: median {medians[size]:.2f} ms, p95 {p95:.2f} ms")
        ratio = max(medians.values()) / min(medians.values())
        print(f"{kind}: slowest median / fastest = {ratio:.2f}x (goal: at most 1.2x)")
    use_database(base)
    with connection.cursor() as cursor:
        for name, _token, _entries in trees.values():
            cursor.execute(f"DROP DATABASE IF EXISTS {name}")


if __name__ == "__main__":
    main()
