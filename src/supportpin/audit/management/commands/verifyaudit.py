from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from supportpin.audit.verify import verify_log


class Command(BaseCommand):
    help = (
        "Check the access log: recompute its Merkle tree from the entries, check every stored "
        "checkpoint's signature and consistency; exit non-zero on any problem."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoint",
            metavar="FILE",
            help="a signed checkpoint kept elsewhere: prove the log still holds its tree",
        )

    def handle(self, *args, checkpoint: str | None, **options):
        outside = None
        if checkpoint is not None:
            try:
                outside = Path(checkpoint).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                raise CommandError(f"cannot read the checkpoint {checkpoint}: {error}") from error
        report = verify_log(outside=outside)
        for problem in report.problems:
            where = f"leaf {problem.index}: " if problem.index is not None else ""
            self.stderr.write(f"{where}{problem.reason}")
        if report.problems:
            raise CommandError(
                f"access log broken from leaf {report.first_bad_index}: "
                f"{len(report.problems)} problem(s) in {report.sealed} sealed entries"
                if report.first_bad_index is not None
                else f"access log broken: {len(report.problems)} problem(s)"
            )
        self.stdout.write(
            f"access log intact: {report.sealed} sealed entries, {report.checkpoints} "
            f"checkpoints, {report.unsealed} not sealed yet"
        )
