from django.core.management.base import BaseCommand, CommandError

from api.operators import operator_key_revoke


class Command(BaseCommand):
    help = "Delete an operator key: its secrets and access tokens stop working at once."

    def add_arguments(self, parser):
        parser.add_argument("client_id")

    def handle(self, *args, **options):
        if not operator_key_revoke(client_id=options["client_id"]):
            raise CommandError("No operator key has this Client ID.")
        self.stdout.write("Revoked.")
