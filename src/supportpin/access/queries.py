"""Reads about guessing blocks that more than one surface shows."""

from datetime import UTC, datetime

from supportpin.accounts.models import Staff
from supportpin.notify.models import OutboxMessage


def block_notice_key(supporter: Staff, blocked_at: datetime) -> str:
    """Return the outbox key of the admins' notice of a block, to find it again later."""
    return f"supporter-blocked:{supporter.pk}:{blocked_at.astimezone(UTC).isoformat()}"


def admins_told_of_block(supporter: Staff) -> bool:
    """Return whether the notice of the supporter's current block went to at least one admin."""
    if supporter.blocked_at is None:
        return False
    notice = block_notice_key(supporter, supporter.blocked_at)
    return OutboxMessage.objects.filter(dedupe_key=notice).exists()
