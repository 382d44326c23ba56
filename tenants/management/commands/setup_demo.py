"""`make run`'s demo: the tenant `demo` and its admin, created once with a random password that
is kept in the git-ignored .env (DEMO_ADMIN_PASSWORD) and printed on every start. The command
never sets the password again: an admin who changed it is told that the stored one may no
longer work."""

import os
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.crypto import get_random_string

from tenants.limits import TENANT_CREATORS_HELP
from tenants.models import Membership, Tenant
from tenants.services import tenant_create

DEMO_EMAIL = "admin@demo.example"
DEMO_TENANT = "demo"
PASSWORD_VARIABLE = "DEMO_ADMIN_PASSWORD"
PASSWORD_LENGTH = 24  # letters and digits: about 143 bits


def stored_password(env_file: Path) -> str | None:
    """The demo password kept in `env_file` (its last non-empty DEMO_ADMIN_PASSWORD), if any."""
    found = None
    if env_file.is_file():
        for line in env_file.read_text().splitlines():
            name, sep, value = line.partition("=")
            if sep and name.strip().removeprefix("export ").strip() == PASSWORD_VARIABLE:
                found = value.strip().strip("'\"") or found
    return found


def store_password(env_file: Path, password: str) -> None:
    """Append the demo password to `env_file` (created readable by its owner only if new)."""
    existing = env_file.read_text() if env_file.is_file() else ""
    separator = "" if not existing or existing.endswith("\n") else "\n"
    with os.fdopen(os.open(env_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "a") as out:
        out.write(f"{separator}# The demo admin's password ({DEMO_EMAIL}), set once by `manage.py setup_demo`.\n")
        out.write(f"{PASSWORD_VARIABLE}={password}\n")


class Command(BaseCommand):
    help = "Create the demo tenant and its admin once, with a random password kept in .env; print the demo login."

    def add_arguments(self, parser):
        parser.add_argument(
            "--env-file",
            default=str(settings.BASE_DIR / ".env"),
            help="The file that keeps the demo password (default: the project's .env).",
        )

    def handle(self, *args, **options):
        env_file = Path(options["env_file"])
        user = get_user_model().objects.filter(email__iexact=DEMO_EMAIL).first()
        if user is None and not Tenant.objects.filter(code=DEMO_TENANT).exists():
            self.login(self.create(env_file), note="created now")
        elif user is None or not Membership.objects.filter(user=user, tenant__code=DEMO_TENANT).exists():
            self.stdout.write(
                f"\n  The demo tenant {DEMO_TENANT} or the user {DEMO_EMAIL} exists without the other: no demo login.\n"
            )
        else:
            self.existing_login(user, stored_password(env_file))
        self.mail_note()
        self.creators_note()

    def create(self, env_file: Path) -> str:
        """Create the demo admin and tenant; the password (from `env_file` if it holds one,
        else new and stored there). A failed write to the file undoes the demo."""
        password = stored_password(env_file)
        new = password is None
        if new:
            password = get_random_string(PASSWORD_LENGTH)
        with transaction.atomic():
            user = get_user_model().objects.create_user(email=DEMO_EMAIL, password=password, first_name="Demo")
            tenant_create(code=DEMO_TENANT, name="Demo Shop", creator=user)
            if new:
                store_password(env_file, password)
        return password

    def existing_login(self, user, password: str | None) -> None:
        if password is None:
            self.stdout.write(
                f"\n  The demo admin {DEMO_EMAIL} exists, but its password is not in .env ({PASSWORD_VARIABLE}).\n"
                f"  Choose one with: python manage.py changepassword {DEMO_EMAIL}\n"
            )
        elif user.check_password(password):
            self.login(password)
        else:
            self.login(password, note="stored in .env; it may no longer work: the demo admin's password was changed")

    def login(self, password: str, note: str = "") -> None:
        self.stdout.write(f"\n  Demo login:  {DEMO_EMAIL}  /  {password}" + (f"  ({note})" if note else ""))
        self.stdout.write(f"  Demo tenant: {DEMO_TENANT}\n")

    def mail_note(self) -> None:
        if settings.EMAIL_BACKEND == "django.core.mail.backends.filebased.EmailBackend":
            where = Path(settings.EMAIL_FILE_PATH)
            if where.is_relative_to(settings.BASE_DIR):
                where = where.relative_to(settings.BASE_DIR)
            self.stdout.write(f"  Mails (invitations, password resets) go to {where}/, one file each.\n")
        elif settings.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend":
            self.stdout.write(f"  Mails go to the SMTP server {settings.EMAIL_HOST}:{settings.EMAIL_PORT}.\n")

    def creators_note(self) -> None:
        # Who may add tenants differs between the demo's .env and production's default.
        self.stdout.write(
            f"  Adding tenants: TENANT_CREATORS={settings.TENANT_CREATORS}. {TENANT_CREATORS_HELP[settings.TENANT_CREATORS]}\n"
        )
