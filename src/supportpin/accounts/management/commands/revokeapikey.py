from django.core.management.base import BaseCommand, CommandError

from supportpin.accounts.actions import revoke_api_key
from supportpin.accounts.models import ApiKey
from supportpin.lib import clock


class Command(BaseCommand):
    help = "Revoke integration keys by id or by name (every live key of that name); 401 at once."

    def add_arguments(self, parser):
        parser.add_argument("name_or_id", help="an id or a name as `supportpin apikeys` lists it")

    def handle(self, *args, name_or_id: str, **options):
        live = ApiKey.objects.filter(revoked_at__isnull=True)
        if name_or_id.isdigit() and live.filter(pk=int(name_or_id)).exists():
            keys = list(live.filter(pk=int(name_or_id)))
        else:
            keys = list(live.filter(name=name_or_id))
        if not keys:
            raise CommandError(f"No live integration key with the id or name {name_or_id!r}.")
        now = clock.now()
        for key in keys:
            revoke_api_key(key=key, now=now)
            self.stdout.write(f"Revoked key {key.pk} ({key.name}).")
