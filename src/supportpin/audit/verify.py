"""Check the audit chain: any edited, inserted or deleted entry shows as a break."""

from dataclasses import dataclass

from supportpin.audit.chain import GENESIS, entry_hash
from supportpin.audit.models import AuditEntry, AuditHead


@dataclass(frozen=True)
class Break:
    seq: int
    reason: str


def verify_chain(*, batch_size: int = 2000) -> tuple[int, list[Break]]:
    """Return how many entries were checked and every break found in the chain."""
    breaks: list[Break] = []
    expected_seq, prev_hash, checked = 1, GENESIS, 0
    entries = AuditEntry.objects.order_by("seq").iterator(chunk_size=batch_size)
    for entry in entries:
        checked += 1
        if entry.seq != expected_seq:
            breaks.append(Break(entry.seq, f"expected entry {expected_seq}: entries missing"))
        if entry.prev_hash != prev_hash:
            breaks.append(Break(entry.seq, "does not link to the entry before it"))
        if entry.hash != entry_hash(entry, entry.prev_hash):
            breaks.append(Break(entry.seq, "content does not match its hash"))
        expected_seq, prev_hash = entry.seq + 1, entry.hash
    head = AuditHead.objects.filter(pk=1).first() or AuditHead(seq=0, hash=GENESIS)
    if head.seq != expected_seq - 1 or head.hash != prev_hash:
        breaks.append(Break(head.seq, "the newest entries are missing"))
    return checked, breaks
