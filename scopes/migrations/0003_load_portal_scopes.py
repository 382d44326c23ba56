from django.db import migrations


def load(apps, schema_editor):
    from scopes.catalogue import load_catalogue

    load_catalogue(apps.get_model("scopes", "Service"), apps.get_model("scopes", "Scope"))


class Migration(migrations.Migration):
    """The "Portal API" service (scopes/data/portal-scopes.json), loaded with the catalogue."""

    dependencies = [("scopes", "0002_load_catalogue")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
