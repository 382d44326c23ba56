from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from scopes.catalogue import CATALOGUE_PATH, load_catalogue, read_catalogue
from scopes.models import Scope, Service


class Command(BaseCommand):
    help = "Load (or update) the scope catalogue. Idempotent; never deletes a scope a key holds."

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, default=CATALOGUE_PATH, help="Catalogue JSON file.")

    def handle(self, *args, **options):
        try:
            data = read_catalogue(options["file"])
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read the catalogue {options['file']}: {exc}") from None
        with transaction.atomic():
            report = load_catalogue(Service, Scope, data)
        self.stdout.write(str(report) if report.changed else "Catalogue is up to date.")
        self.stdout.write(
            f"{Service.objects.count()} services, {Scope.objects.offered().count()} scopes offered, "
            f"{Scope.objects.filter(deprecated=True).count()} deprecated."
        )
