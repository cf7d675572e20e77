"""The outbox seen from /metrics: deliveries as they happen, the backlog at scrape time."""

import logging
from collections.abc import Iterator

from django.db import DatabaseError
from django.db.models import Count, Min
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from supportpin.lib import clock
from supportpin.notify.models import OutboxMessage

log = logging.getLogger(__name__)

DELIVERIES = Counter(
    "supportpin_outbox_deliveries",
    "Delivery attempts by kind and outcome (sent, failed and due again, gave_up).",
    ["kind", "outcome"],
)


class OutboxBacklog(Collector):
    """Report the messages waiting to be sent and the oldest one's age, read when scraped."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            # One query on the partial index of unsent messages.
            waiting = OutboxMessage.objects.filter(
                sent_at__isnull=True, failed_at__isnull=True
            ).aggregate(count=Count("pk"), oldest=Min("created_at"))
        except DatabaseError:
            # The process's own metrics still answer while the database is away.
            log.warning("outbox backlog not measured: database unavailable")
            return
        oldest = waiting["oldest"]
        age = max((clock.now() - oldest).total_seconds(), 0.0) if oldest else 0.0
        yield GaugeMetricFamily(
            "supportpin_outbox_backlog_messages",
            "Outbox messages not yet sent and not given up.",
            value=waiting["count"],
        )
        yield GaugeMetricFamily(
            "supportpin_outbox_oldest_waiting_seconds",
            "Age of the oldest message still waiting to be sent (0 when none waits).",
            value=age,
        )
