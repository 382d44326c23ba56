import json

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from tenants.models import Tenant, validate_tenant_code
from tenants.services import tenant_create


class Command(BaseCommand):
    help = "Create a tenant with its admin (created if new) and its Emporix API and Storefront API keys."

    def add_arguments(self, parser):
        parser.add_argument("code", help="Tenant code: 3 to 16 lowercase letters and digits, starting with a letter.")
        parser.add_argument("--name", help="Display name (default: the code).")
        parser.add_argument("--admin", required=True, help="E-mail of the tenant's admin.")
        parser.add_argument("--password", help="Password for a new admin user (default: none usable; reset by e-mail).")
        parser.add_argument("--json", action="store_true", help="Print the keys with their secrets as JSON.")

    def handle(self, *args, **options):
        code = options["code"]
        try:
            validate_tenant_code(code)
        except ValidationError as exc:
            raise CommandError(exc.messages[0]) from None
        if Tenant.objects.filter(code=code).exists():
            raise CommandError(f"Tenant {code!r} already exists.")
        User = get_user_model()
        email = User.objects.normalize_email(options["admin"]).lower()
        with transaction.atomic():
            user = User.objects.filter(email__iexact=email).first()
            if user is None:
                user = User.objects.create_user(email=email, password=options["password"])
            elif options["password"]:
                raise CommandError(f"User {email} exists already; --password is only for a new user.")
            tenant, keys = tenant_create(code=code, name=options["name"] or code, creator=user)
        if options["json"]:
            payload = {
                "tenant": tenant.code,
                "keys": [
                    {"kind": key.kind, "name": key.name, "client_id": key.client_id, "secret": secret}
                    for key, secret in keys
                ],
            }
            self.stdout.write(json.dumps(payload, indent=2))
            return
        self.stdout.write(f"Tenant {tenant.code} ({tenant.name}) created; admin: {user.email}")
        for key, _ in keys:
            self.stdout.write(f"  {key.name:<16} Client ID {key.client_id}")
        self.stdout.write("Secrets are shown in the portal (Manage API Keys), or with --json.")
