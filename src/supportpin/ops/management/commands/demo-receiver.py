import contextlib

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from supportpin.ops.receiver import DemoReceiver


class Command(BaseCommand):
    help = (
        "Receive Support-PIN's signed webhooks locally (product actions, grant events), "
        "verify each signature and print one line per delivery."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8025, help="port on 127.0.0.1")
        parser.add_argument(
            "--secret",
            default=settings.SUPPORTPIN_ACTION_WEBHOOK_SECRET,
            help="the webhook secret (default: SUPPORTPIN_ACTION_WEBHOOK_SECRET)",
        )

    def handle(self, *args, port: int, secret: str, **options):
        if not secret:
            raise CommandError("Set SUPPORTPIN_ACTION_WEBHOOK_SECRET or pass --secret.")

        def report(line: str) -> None:
            self.stdout.write(line)
            self.stdout.flush()

        try:
            server = DemoReceiver(("127.0.0.1", port), secret=secret, report=report)
        except OSError as error:
            raise CommandError(f"Cannot listen on 127.0.0.1:{port}: {error.strerror}") from error
        report(f"Receiving webhooks on http://127.0.0.1:{port}/ (Ctrl-C stops)")
        # Ctrl-C (or `make run` ending) is the way to stop: no traceback for it.
        with server, contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
