import logging
import time

from django.core.management.base import BaseCommand

from supportpin.notify.worker import run_pass

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the background worker: expire PINs, send e-mails and webhooks from the outbox."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run one pass and exit")
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between passes")

    def handle(self, *args, once: bool, interval: float, **options):
        while True:
            report = run_pass()
            if once:
                self.stdout.write(report.summary())
                return
            if report.busy:
                log.info(report.summary())
            else:
                time.sleep(interval)
