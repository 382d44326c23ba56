from django.core.management.base import BaseCommand
from django.utils import timezone

from kernel.crypto import generate_encryption_key_entry


class Command(BaseCommand):
    help = "Print a new 'id:base64key' entry for PORTAL_ENCRYPTION_KEYS (put it first to rotate)."

    def add_arguments(self, parser):
        parser.add_argument("--id", default=None, help="Key id (default: k + today's date and time).")

    def handle(self, *args, **options):
        key_id = options["id"] or timezone.now().strftime("k%Y%m%d%H%M%S")
        self.stdout.write(generate_encryption_key_entry(key_id))
