"""Check the access log: recompute its tree from the entries and hold it to every checkpoint."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

from supportpin.audit.leaves import leaf_bytes
from supportpin.audit.logkeys import log_verifiers
from supportpin.audit.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    TILE_WIDTH,
    ProofError,
    Tile,
    consistency_proof,
    leaf_hash,
    node_hash,
    tile_inner,
    tree_hash,
    verify_consistency,
)
from supportpin.audit.models import AuditEntry, LogCheckpoint, LogCosignature, LogTile
from supportpin.audit.note import Checkpoint, NoteError, Verifier, open_note, split_note
from supportpin.audit.queries import tile_reader
from supportpin.audit.witnesses import configured_witnesses


@dataclass(frozen=True)
class Problem:
    """Something wrong with the log; `index` is the first leaf it touches, if one is known."""

    index: int | None
    reason: str


@dataclass
class Report:
    sealed: int = 0
    unsealed: int = 0
    checkpoints: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def first_bad_index(self) -> int | None:
        """Return the lowest leaf index any problem names."""
        indexes = [p.index for p in self.problems if p.index is not None]
        return min(indexes) if indexes else None


@dataclass(frozen=True)
class _Target:
    """A root the recomputed tree must have at `size`: a stored checkpoint's or an outside one's."""

    size: int
    root: bytes
    label: str


def parse_checkpoint(note: str, verifiers: list[Verifier]) -> Checkpoint:
    """Return the checkpoint in a signed note; raise NoteError unless a log key signed it."""
    text, _signed_by = open_note(note, verifiers)
    return Checkpoint.parse(text)


def verify_log(*, outside: str | None = None, batch_size: int = 2000) -> Report:
    """Return what recomputing the tree from the entries finds against the checkpoints.

    `outside` is a signed checkpoint kept outside the database: the log must still hold its tree.
    """
    report = Report()
    verifiers = log_verifiers()
    stored = _stored_checkpoints(report, verifiers)
    targets = [_Target(cp.size, cp.root_hash, f"the checkpoint of size {cp.size}") for cp in stored]
    if outside is not None:
        try:
            theirs = parse_checkpoint(outside, verifiers)
        except NoteError as error:
            report.problems.append(Problem(None, f"the checkpoint kept outside: {error}"))
        else:
            label = f"the checkpoint kept outside (size {theirs.size})"
            targets.append(_Target(theirs.size, theirs.root_hash, label))
    _check_consistency(report, stored)
    _check_inner_hashes(report)
    _check_cosignatures(report)
    entries = AuditEntry.objects.filter(leaf_index__isnull=False).order_by("leaf_index")
    _recompute(report, entries.iterator(chunk_size=batch_size), targets)
    report.unsealed = AuditEntry.objects.filter(leaf_index__isnull=True).count()
    newest = stored[-1].size if stored else 0
    if report.sealed > newest:
        report.problems.append(
            Problem(
                newest, f"{report.sealed - newest} entries are sealed past the newest checkpoint"
            )
        )
    report.problems.sort(key=lambda p: (p.index is None, p.index or 0))
    return report


def _stored_checkpoints(report: Report, verifiers: list[Verifier]) -> list[Checkpoint]:
    valid = []
    for row in LogCheckpoint.objects.order_by("size"):
        report.checkpoints += 1
        try:
            checkpoint = parse_checkpoint(row.note, verifiers)
        except NoteError as error:
            report.problems.append(Problem(None, f"the checkpoint of size {row.size}: {error}"))
            continue
        if checkpoint.size != row.size or checkpoint.root_hash != bytes(row.root_hash):
            reason = f"the checkpoint of size {row.size}: its row differs from its signed note"
            report.problems.append(Problem(None, reason))
        valid.append(checkpoint)
    return valid


def _check_inner_hashes(report: Report) -> None:
    # Proofs read a tile's inner hashes instead of hashing its data: they must agree.
    rows = LogTile.objects.order_by("level", "index").values_list("level", "index", "data", "inner")
    for level, index, data, inner in rows.iterator(chunk_size=500):
        if tile_inner(bytes(data)) != bytes(inner):
            where = Tile(level=level, index=index).path
            report.problems.append(Problem(None, f"the inner hashes stored with {where} are wrong"))


def _check_cosignatures(report: Report) -> None:
    # Lines under another key than a configured witness's (one no longer configured, or its
    # key before a rotation) cannot be checked here and are skipped, as a note verifier would.
    keys = {witness.name: witness.key for witness in configured_witnesses()}
    rows = LogCosignature.objects.filter(witness__in=keys).select_related("checkpoint")
    for row in rows.order_by("checkpoint__size", "witness"):
        try:
            keys[row.witness].cosignature(split_note(row.checkpoint.note)[0], [row.line])
        except NoteError as error:
            where = f"the checkpoint of size {row.checkpoint.size}"
            report.problems.append(Problem(None, f"{where}: {row.witness}'s cosignature: {error}"))


def _check_consistency(report: Report, checkpoints: list[Checkpoint]) -> None:
    # Each checkpoint's tree must be a prefix of the next one's, proven from the stored tiles,
    # which serve every proof the customers and witnesses get.
    for old, new in pairwise(checkpoints):
        try:
            proof = consistency_proof(old.size, new.size, tile_reader(new.size))
        except ProofError as error:
            report.problems.append(Problem(old.size, f"the stored tiles: {error}"))
            continue
        if not verify_consistency(
            old_size=old.size,
            new_size=new.size,
            old_root=old.root_hash,
            new_root=new.root_hash,
            proof=proof,
        ):
            reason = f"the checkpoints of size {old.size} and {new.size} are not consistent"
            report.problems.append(Problem(old.size, reason))
    if checkpoints:
        newest = checkpoints[-1]
        try:
            intact = tree_hash(newest.size, tile_reader(newest.size)) == newest.root_hash
        except ProofError:
            intact = False
        if not intact:
            reason = (
                f"the stored tiles do not give the root of the checkpoint of size {newest.size}"
            )
            report.problems.append(Problem(None, reason))


def _recompute(report: Report, entries: Iterable[AuditEntry], targets: list[_Target]) -> None:
    due = sorted(targets, key=lambda t: t.size)
    # The roots of the complete subtrees the leaves so far split into, largest first.
    subtrees: list[tuple[int, bytes]] = []
    proven = 0  # the largest size whose root the targets confirmed
    stored_leaves = _StoredLeaves()
    due, proven = _check_targets(report, due, 0, EMPTY_ROOT, proven)
    size = 0
    for entry in entries:
        if entry.leaf_index != size:
            # Past a gap no root can match: say where it starts and stop there.
            reason = f"entries {size} to {(entry.leaf_index or 0) - 1} are missing"
            report.problems.append(Problem(size, reason))
            break
        h = leaf_hash(leaf_bytes(entry))
        if stored_leaves.get(size) != h:
            report.problems.append(Problem(size, "the entry does not match its stored hash"))
        subtrees.append((0, h))
        while len(subtrees) > 1 and subtrees[-1][0] == subtrees[-2][0]:
            (level, right), (_, left) = subtrees.pop(), subtrees.pop()
            subtrees.append((level + 1, node_hash(left, right)))
        size += 1
        if due and due[0].size == size:
            root = subtrees[-1][1]
            for _level, left in reversed(subtrees[:-1]):
                root = node_hash(left, root)
            due, proven = _check_targets(report, due, size, root, proven)
    report.sealed = AuditEntry.objects.filter(leaf_index__isnull=False).count()
    for target in due:
        reason = f"{target.label} covers {target.size} entries; the log holds {size} in a row"
        report.problems.append(Problem(size, reason))


def _check_targets(
    report: Report, due: list[_Target], size: int, root: bytes, proven: int
) -> tuple[list[_Target], int]:
    intact = True
    while due and due[0].size == size:
        target = due.pop(0)
        if target.root != root:
            # The fault lies after the last size proven good: at the first entry that did not
            # match its stored hash, if one did not, else somewhere from there on.
            found = [p.index for p in report.problems if p.index is not None and p.index >= proven]
            reason = f"the first {size} entries do not give the root of {target.label}"
            report.problems.append(Problem(min(found, default=proven), reason))
            intact = False
    return due, (size if intact else proven)


class _StoredLeaves:
    """The leaf hashes the tiles of level 0 hold, read one tile at a time."""

    def __init__(self) -> None:
        self.tile_index = -1
        self.data = b""

    def get(self, index: int) -> bytes:
        tile_index, offset = divmod(index, TILE_WIDTH)
        if tile_index != self.tile_index:
            row = LogTile.objects.filter(level=0, index=tile_index).values_list("data", flat=True)
            self.tile_index, self.data = tile_index, bytes(row.first() or b"")
        return self.data[offset * HASH_SIZE : (offset + 1) * HASH_SIZE]
