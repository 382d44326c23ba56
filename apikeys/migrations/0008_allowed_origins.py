# The web origins allowed to use a key from a browser (docs/cors.md).
#
# SQLite cannot add a NOT NULL column with Django's AddField here: it rebuilds the table, and
# the rebuilt table's index apikey_list_by_last_used (0005) carries NULLS FIRST, which SQLite
# refuses in an index. There the column is added in place; PostgreSQL takes Django's AddField.

from django.db import migrations, models

FIELD = models.TextField(blank=True, default="")


def add_column(apps, schema_editor):
    model = apps.get_model("apikeys", "ApiKey")
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("ALTER TABLE \"apikeys_apikey\" ADD COLUMN \"allowed_origins\" text NOT NULL DEFAULT ''")
    else:
        schema_editor.add_field(model, model._meta.get_field("allowed_origins"))


def drop_column(apps, schema_editor):
    model = apps.get_model("apikeys", "ApiKey")
    schema_editor.remove_field(model, model._meta.get_field("allowed_origins"))


class Migration(migrations.Migration):
    dependencies = [
        ("apikeys", "0007_encryption_canary_to_kernel"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddField(model_name="apikey", name="allowed_origins", field=FIELD)],
        ),
        migrations.RunPython(add_column, drop_column),
    ]
