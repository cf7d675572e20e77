from django.core.management.base import BaseCommand

from supportpin.accounts.actions import create_api_key
from supportpin.lib import clock


class Command(BaseCommand):
    help = "Create an integration API key; the key is the last line of the output."

    def add_arguments(self, parser):
        parser.add_argument("name", help="who uses the key, e.g. 'billing'")

    def handle(self, *args, name: str, **options):
        key = create_api_key(name=name[:100], now=clock.now())
        self.stdout.write("Integration key (shown once; send as 'Authorization: Bearer <key>'):")
        self.stdout.write(key)
