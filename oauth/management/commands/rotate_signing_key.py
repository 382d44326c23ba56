from django.core.management.base import BaseCommand
from django.utils import timezone

from oauth.signing import signing_keys_rotate


class Command(BaseCommand):
    help = (
        "Rotate the key that signs JWT access tokens, one idempotent stage per run: unpublish retired "
        "keys whose tokens have expired; promote the next key once it has been published for "
        "JWKS_PUBLISH_AHEAD seconds (the old key stays published until its tokens expire); publish a "
        "next key. Prints kids and times only."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--now",
            action="store_true",
            help="Promote a next key at once, even if verifiers may not have fetched it yet (their "
            "cached JWKS lacks it until they refresh).",
        )

    def handle(self, *args, **options):
        for line in signing_keys_rotate(now=timezone.now(), force=options["now"]):
            self.stdout.write(line)
