from django.core.management.base import BaseCommand

from supportpin.ops.worker import run_forever, run_pass


class Command(BaseCommand):
    help = "Run the background worker: expire PINs, send e-mails and webhooks from the outbox."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run one pass and exit")
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between passes")

    def handle(self, *args, once: bool, interval: float, **options):
        if once:
            self.stdout.write(run_pass().summary())
            return
        run_forever(interval=interval)
