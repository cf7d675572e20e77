"""The access log seen from /metrics: how much of it no checkpoint covers yet, read when scraped."""

import logging
from collections.abc import Iterator

from django.db import DatabaseError
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from supportpin.audit.models import AuditEntry

log = logging.getLogger(__name__)


class UnsealedEntries(Collector):
    """Report the access-log entries the sealer has not put into the Merkle tree yet."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            # A count on the partial index of unsealed entries: small unless the sealer stalls.
            waiting = AuditEntry.objects.filter(leaf_index__isnull=True).count()
        except DatabaseError:
            log.warning("unsealed entries not measured: database unavailable")
            return
        yield GaugeMetricFamily(
            "supportpin_log_unsealed_entries",
            "Access-log entries no signed checkpoint covers yet (the sealer's backlog).",
            value=waiting,
        )
