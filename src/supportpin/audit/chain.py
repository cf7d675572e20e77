"""The hash that links one audit entry to the one before it."""

import json

from supportpin.lib.hashing import keyed_digest

GENESIS = "0" * 64


def entry_hash(entry, prev_hash: str) -> str:
    """Return the keyed hash of `entry`'s content and `prev_hash`.

    Keyed with a secret outside the database, so someone who can edit the table cannot
    recompute the chain after an edit.
    """
    content = {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "event": entry.event,
        "actor_kind": entry.actor_kind,
        "actor": entry.actor,
        "customer": entry.customer,
        "product": entry.product,
        "basis": entry.basis,
        "grant_id": entry.grant_id,
        "ticket_id": entry.ticket_id,
        "detail": entry.detail,
        "prev_hash": prev_hash,
    }
    message = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    return keyed_digest("audit-chain", message)
