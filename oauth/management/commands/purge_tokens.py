from django.core.management.base import BaseCommand

from oauth.services import tokens_purge


class Command(BaseCommand):
    help = "Delete expired and revoked access tokens, in batches."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args, **options):
        count = tokens_purge(batch_size=options["batch_size"])
        self.stdout.write(f"Purged {count} token(s).")
