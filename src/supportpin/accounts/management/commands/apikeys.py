from django.core.management.base import BaseCommand

from supportpin.accounts.models import ApiKey


class Command(BaseCommand):
    help = (
        "List the integration keys: id, name, created, revoked (the keys themselves are not kept)."
    )

    def handle(self, *args, **options):
        self.stdout.write("id\tname\tcreated\trevoked")
        for key in ApiKey.objects.order_by("id"):
            revoked = key.revoked_at.isoformat() if key.revoked_at else "-"
            self.stdout.write(f"{key.pk}\t{key.name}\t{key.created_at.isoformat()}\t{revoked}")
