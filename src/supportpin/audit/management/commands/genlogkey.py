from django.core.management.base import BaseCommand, CommandError

from supportpin.audit.note import Signer, is_valid_name


class Command(BaseCommand):
    help = "Print a new Ed25519 signing key for the access log named ORIGIN, and its verifier key."
    # Run without the system checks: they refuse to start without the key this command makes.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("origin", help="the log's name, e.g. support.example.com/log")

    def handle(self, *args, origin: str, **options):
        if not is_valid_name(origin):
            raise CommandError(f"ORIGIN {origin!r} must be non-empty, with no spaces and no +.")
        signer = Signer.generate(origin)
        self.stdout.write(
            "Signer key (secret: set it as SUPPORTPIN_LOG_SIGNING_KEY, never in the database):"
        )
        self.stdout.write(str(signer))
        self.stdout.write(
            "Verifier key (public: customers and witnesses check the log's checkpoints with it):"
        )
        self.stdout.write(str(signer.verifier))
