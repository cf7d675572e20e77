import pyotp
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from supportpin.accounts.models import Staff


class Command(BaseCommand):
    help = "Print a staff member's current TOTP code (development only, DEBUG=1)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        if not settings.DEBUG:
            raise CommandError("Only with DEBUG=1: in production the code lives on the phone.")
        staff = Staff.objects.filter(username=username).first()
        if staff is None:
            raise CommandError(f"No staff member {username!r}.")
        self.stdout.write(pyotp.TOTP(staff.otp_secret).now())
