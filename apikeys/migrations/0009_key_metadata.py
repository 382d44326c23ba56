# Key metadata (docs/keys.md, "What each key is for"): a description, an owner (a member of the
# tenant), an environment and free labels.
#
# As in 0008, SQLite cannot take Django's AddField here (the rebuilt table's index
# apikey_list_by_last_used carries NULLS FIRST, which SQLite refuses in an index): there the
# columns are added in place; PostgreSQL takes Django's AddField.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

FIELDS = {
    "description": models.CharField(blank=True, default="", max_length=500),
    "environment": models.CharField(
        blank=True,
        choices=[("", "None"), ("production", "Production"), ("staging", "Staging"), ("development", "Development")],
        default="",
        max_length=16,
    ),
    "labels": models.CharField(blank=True, default="", max_length=331),
    "owner": models.ForeignKey(
        blank=True,
        null=True,
        on_delete=django.db.models.deletion.SET_NULL,
        related_name="+",
        to=settings.AUTH_USER_MODEL,
    ),
}


def add_columns(apps, schema_editor):
    model = apps.get_model("apikeys", "ApiKey")
    if schema_editor.connection.vendor != "sqlite":
        for name in FIELDS:
            schema_editor.add_field(model, model._meta.get_field(name))
        return
    table = schema_editor.quote_name(model._meta.db_table)
    for name, length in (("description", 500), ("environment", 16), ("labels", 331)):
        schema_editor.execute(f'ALTER TABLE {table} ADD COLUMN "{name}" varchar({length}) NOT NULL DEFAULT \'\'')
    owner = model._meta.get_field("owner")
    users = schema_editor.quote_name(owner.related_model._meta.db_table)
    schema_editor.execute(
        f'ALTER TABLE {table} ADD COLUMN "owner_id" integer NULL REFERENCES {users} ("id") DEFERRABLE INITIALLY DEFERRED'
    )
    schema_editor.execute(schema_editor._create_index_sql(model, fields=[owner]))


def drop_columns(apps, schema_editor):
    model = apps.get_model("apikeys", "ApiKey")
    for name in FIELDS:
        schema_editor.remove_field(model, model._meta.get_field(name))


class Migration(migrations.Migration):
    dependencies = [
        ("apikeys", "0008_allowed_origins"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(model_name="apikey", name=name, field=field) for name, field in FIELDS.items()
            ],
        ),
        migrations.RunPython(add_columns, drop_columns),
    ]
