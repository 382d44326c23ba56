from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apikeys import crypto
from apikeys.canary import canaries_ensure
from webhooks.models import Endpoint


class Command(BaseCommand):
    help = (
        "Re-encrypt every webhook signing secret under the newest encryption key, like "
        "reencrypt_secrets does for client secrets; safe to stop and run again."
    )

    def handle(self, *args, **options) -> None:
        canaries_ensure()
        target = crypto.current_key_id()
        done = failed = 0
        with transaction.atomic():
            for endpoint in Endpoint.objects.exclude(secret_key_id=target).select_for_update(skip_locked=True):
                try:
                    secret = crypto.decrypt(
                        endpoint.secret_ciphertext, key_id=endpoint.secret_key_id, binding=endpoint.binding
                    )
                except crypto.DecryptionError as exc:
                    failed += 1
                    self.stderr.write(f"endpoint {endpoint.public_id}: {exc}; left unchanged")
                    continue
                ciphertext, key_id = crypto.encrypt(secret, binding=endpoint.binding)
                if crypto.decrypt(ciphertext, key_id=key_id, binding=endpoint.binding) != secret:
                    raise CommandError("re-encryption self-check failed; nothing was saved")
                Endpoint.objects.filter(pk=endpoint.pk).update(secret_ciphertext=ciphertext, secret_key_id=key_id)
                done += 1
        remaining = Endpoint.objects.exclude(secret_key_id=target).count()
        self.stdout.write(
            f"Done: {done} webhook secret(s) re-encrypted under key {target!r}, {failed} failed, {remaining} not under it."
        )
        if failed:
            raise CommandError(f"{failed} webhook secret(s) could not be re-encrypted (see above).")
