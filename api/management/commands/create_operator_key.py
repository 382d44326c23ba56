from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from api.operators import OperatorTenantTaken, operator_key_create


class Command(BaseCommand):
    help = "Create an operator key (scope portal.tenant_manage, for creating tenants over the API); prints its secret once."

    def add_arguments(self, parser):
        parser.add_argument("name", help="A name for the key, e.g. 'web shop signup'.")

    def handle(self, *args, **options):
        name = options["name"].strip()
        if not 1 <= len(name) <= 64:
            raise CommandError("The name has 1 to 64 characters.")
        try:
            key, secret = operator_key_create(name=name)
        except (OperatorTenantTaken, IntegrityError) as error:
            raise CommandError(f"Cannot create the operator key: {error}") from None
        self.stdout.write(f"Client ID: {key.client_id}\nSecret:    {secret}\n(The secret is not shown again.)")
