from django.core.management.base import BaseCommand

from supportpin.audit.actions import seal
from supportpin.audit.queries import latest_checkpoint
from supportpin.lib import clock


class Command(BaseCommand):
    help = (
        "Seal every access-log entry committed before it starts into the tree; sign a checkpoint."
    )

    def handle(self, *args, **options):
        sealed = seal(now=clock.now())
        checkpoint = latest_checkpoint()
        size = checkpoint.size if checkpoint else 0
        self.stdout.write(f"sealed {sealed} entries; the log holds {size}")
