from supportpin.access.actions import open_support_pin, redeem_pin
from supportpin.access.tests.test_concurrency import ConcurrencyTestCase
from supportpin.audit.models import AuditEntry, Event
from supportpin.products.actions import admit_through_proxy
from testsupport import THREADS, in_parallel


class RepeatedCheckRaceTests(ConcurrencyTestCase):
    def test_it_logs_one_entry_when_many_processes_admit_the_same_window_at_once(self):
        pin = open_support_pin(customer=self.customer, now=self.now)
        grant = redeem_pin(
            supporter=self.supporter, customer_number="C-1001", pin=pin.pin, now=self.now
        ).grant

        results = in_parallel(
            lambda _: admit_through_proxy(
                supporter=self.supporter, product=self.product, now=self.now
            ),
            range(THREADS),
        )

        self.assertEqual([r.pk if r else r for r in results], [grant.pk] * THREADS)
        entries = AuditEntry.objects.filter(event=Event.ACCESS_DECIDED, product="gs-1")
        self.assertEqual(entries.count(), 1)
        self.assertChainIntact()
