from django.core.management.base import BaseCommand, CommandError

from oauth.services import tokens_purge

# The share of time the purge works by default: it rests three times as long as each window
# took, and the token requests of a busy portal keep their latency (bench/purge.py).
DEFAULT_DUTY = 0.25


class Command(BaseCommand):
    help = "Delete expired and revoked access tokens, a window of ids per transaction, at a gentle pace."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000, help="Ids per window (one DELETE each).")
        parser.add_argument(
            "--duty",
            type=float,
            default=DEFAULT_DUTY,
            help=f"Share of time spent deleting, more than 0 and at most 1 (default {DEFAULT_DUTY}); "
            "1 deletes without resting.",
        )

    def handle(self, *args, **options):
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        if not 0 < options["duty"] <= 1:
            raise CommandError("--duty must be more than 0 and at most 1.")
        count = tokens_purge(batch_size=options["batch_size"], duty=options["duty"])
        self.stdout.write(f"Purged {count} token(s).")
