from django.core.management.base import BaseCommand

from api.operators import operator_keys


class Command(BaseCommand):
    help = "List the operator keys (never their secrets)."

    def handle(self, *args, **options):
        for key in operator_keys():
            used = key.last_used_at.isoformat() if key.last_used_at else "never"
            self.stdout.write(f"{key.client_id}  {key.name}  created {key.created_at:%Y-%m-%d}  last used {used}")
