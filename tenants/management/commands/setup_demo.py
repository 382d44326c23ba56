from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from tenants.models import Membership, Tenant
from tenants.services import tenant_create

DEMO_EMAIL = "admin@demo.example"
DEMO_TENANT = "demo"


class Command(BaseCommand):
    help = "Create (once) the demo tenant and its admin, and print the demo login."

    def add_arguments(self, parser):
        parser.add_argument("--password", default="demo-portal-2026", help="Demo admin password.")

    def handle(self, *args, **options):
        User = get_user_model()
        with transaction.atomic():
            user = User.objects.filter(email=DEMO_EMAIL).first()
            if user is None:
                user = User.objects.create_user(email=DEMO_EMAIL, password=options["password"], first_name="Demo")
            else:
                # The printed login must work, whatever happened to the demo account.
                user.set_password(options["password"])
                user.is_active = True
                user.save(update_fields=["password", "is_active"])
            if not Tenant.objects.filter(code=DEMO_TENANT).exists():
                tenant_create(code=DEMO_TENANT, name="Demo Shop", creator=user)
            elif not Membership.objects.filter(user=user, tenant__code=DEMO_TENANT).exists():
                Membership.objects.create(user=user, tenant=Tenant.objects.get(code=DEMO_TENANT), role="admin")
        self.stdout.write(f"\n  Demo login:  {DEMO_EMAIL}  /  {options['password']}\n  Demo tenant: {DEMO_TENANT}\n")
