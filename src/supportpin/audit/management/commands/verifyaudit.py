from django.core.management.base import BaseCommand, CommandError

from supportpin.audit.verify import verify_chain


class Command(BaseCommand):
    help = (
        "Check the audit log's hash chain; exit non-zero on any edited, inserted or deleted entry."
    )

    def handle(self, *args, **options):
        checked, breaks = verify_chain()
        for item in breaks:
            self.stderr.write(f"entry {item.seq}: {item.reason}")
        if breaks:
            raise CommandError(f"audit chain broken: {len(breaks)} problem(s) in {checked} entries")
        self.stdout.write(f"audit chain intact: {checked} entries")
