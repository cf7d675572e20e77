"""Readiness: the database answers, every migration is applied, and Redis answers if used."""

from functools import cache

import redis
import structlog
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

log = structlog.get_logger(__name__)


@cache
def shipped_migrations() -> frozenset[tuple[str, str]]:
    """Return the migrations this code ships (read from disk once per process)."""
    return frozenset(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


def unready() -> list[str]:
    """Return what keeps this process from serving (empty when ready)."""
    try:
        # One query, which also proves the database answers.
        applied = MigrationRecorder(connection).applied_migrations()
    except DatabaseError:
        return ["database"]
    missing = ["migrations"] if not shipped_migrations() <= applied.keys() else []
    if settings.REDIS_URL and not _redis_answers(settings.REDIS_URL):
        missing.append("redis")
    return missing


def _redis_answers(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()
