from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apikeys.models import ApiSecret
from kernel import crypto
from kernel.canary import canaries_ensure
from kernel.crypto import sealed_reencrypters


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret under the newest encryption key (the first in "
        "PORTAL_ENCRYPTION_KEYS). Works in batches, each in its own transaction; safe to stop "
        "and run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--dry-run", action="store_true", help="Only count what would change.")

    def handle(self, *args, **options):
        batch_size = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        canaries_ensure()  # the new key's canary, proven before it writes any secret
        target = crypto.current_key_id()
        pending = ApiSecret.objects.exclude(encryption_key_id=target)
        total = pending.count()
        if options["dry_run"] or total == 0:
            self.stdout.write(f"{total} secret(s) to re-encrypt under key {target!r}.")
            if not options["dry_run"]:
                self._others()
            return
        done = failed = 0
        last_pk = 0
        while True:
            with transaction.atomic():
                # Rows locked by a concurrent renew are skipped now and picked up next run.
                batch = list(
                    pending.filter(pk__gt=last_pk)
                    .select_related("key")
                    .select_for_update(skip_locked=True, of=("self",))
                    .order_by("pk")[:batch_size]
                )
                if not batch:
                    break
                for secret in batch:
                    last_pk = secret.pk
                    try:
                        plaintext = crypto.decrypt(
                            secret.ciphertext, key_id=secret.encryption_key_id, binding=secret.binding
                        )
                    except crypto.DecryptionError as exc:
                        failed += 1
                        self.stderr.write(f"secret {secret.public_id}: {exc}; left unchanged")
                        continue
                    if not crypto.digests_match(crypto.digest(plaintext), bytes(secret.digest)):
                        failed += 1
                        self.stderr.write(f"secret {secret.public_id}: digest mismatch; left unchanged")
                        continue
                    ciphertext, key_id = crypto.encrypt(plaintext, binding=secret.binding)
                    # Prove the new ciphertext before it replaces the old one.
                    if crypto.decrypt(ciphertext, key_id=key_id, binding=secret.binding) != plaintext:
                        raise CommandError("re-encryption self-check failed; nothing in this batch was saved")
                    ApiSecret.objects.filter(pk=secret.pk).update(ciphertext=ciphertext, encryption_key_id=key_id)
                    done += 1
            self.stdout.write(f"re-encrypted {done} of {total}")
        remaining = ApiSecret.objects.exclude(encryption_key_id=target).count()
        self.stdout.write(
            f"Done: {done} secret(s) re-encrypted under key {target!r}, {failed} failed, {remaining} not under it."
        )
        if failed:
            raise CommandError(f"{failed} secret(s) could not be re-encrypted (see above).")
        self._others()

    def _others(self) -> None:
        """What other apps keep sealed under the same keys (the token service's signing keys)."""
        for name, reencrypt in sealed_reencrypters().items():
            done, failed = reencrypt()
            self.stdout.write(f"Done: {done} {name}(s) re-encrypted, {failed} failed.")
            if failed:
                raise CommandError(f"{failed} {name}(s) could not be re-encrypted.")
