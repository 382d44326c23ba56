from django.core.management.base import BaseCommand, CommandError

from kernel import crypto
from kernel.canary import canaries_ensure
from webhooks.models import Endpoint
from webhooks.services import endpoint_secrets_reencrypt


class Command(BaseCommand):
    help = (
        "Re-encrypt every webhook signing secret under the newest encryption key (reencrypt_secrets "
        "does this too, after the client secrets); safe to stop and run again."
    )

    def handle(self, *args, **options) -> None:
        canaries_ensure()
        target = crypto.current_key_id()
        try:
            done, failed = endpoint_secrets_reencrypt()
        except RuntimeError as exc:
            raise CommandError(str(exc)) from None
        remaining = Endpoint.objects.exclude(secret_key_id=target).count()
        self.stdout.write(
            f"Done: {done} webhook secret(s) re-encrypted under key {target!r}, {failed} failed, {remaining} not under it."
        )
        if failed:
            raise CommandError(f"{failed} webhook secret(s) could not be re-encrypted (see the log).")
