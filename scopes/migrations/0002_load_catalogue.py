from django.db import migrations


def load(apps, schema_editor):
    from scopes.catalogue import load_catalogue

    load_catalogue(apps.get_model("scopes", "Service"), apps.get_model("scopes", "Scope"))


class Migration(migrations.Migration):
    """A fresh database has the catalogue after `migrate`; `load_scopes` updates it later."""

    dependencies = [
        ("scopes", "0001_initial"),
    ]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
