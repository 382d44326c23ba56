# A key's own rate limit (docs/keys.md, "Rate limit per key"): a number of requests and its
# window, a second or a minute.
#
# As in 0008 and 0009, SQLite cannot take Django's AddField here (the rebuilt table's index
# apikey_list_by_last_used carries NULLS FIRST, which SQLite refuses in an index): there the
# columns are added in place; PostgreSQL takes Django's AddField.

from django.db import migrations, models

FIELDS = {
    "rate_limit": models.PositiveIntegerField(blank=True, null=True),
    "rate_limit_period": models.CharField(
        blank=True,
        choices=[("second", "per second"), ("minute", "per minute")],
        default="minute",
        max_length=8,
    ),
}


def add_columns(apps, schema_editor):
    model = apps.get_model("apikeys", "ApiKey")
    if schema_editor.connection.vendor != "sqlite":
        for name in FIELDS:
            schema_editor.add_field(model, model._meta.get_field(name))
        return
    table = schema_editor.quote_name(model._meta.db_table)
    schema_editor.execute(
        f'ALTER TABLE {table} ADD COLUMN "rate_limit" integer unsigned NULL CHECK ("rate_limit" >= 0)'
    )
    schema_editor.execute(f"ALTER TABLE {table} ADD COLUMN \"rate_limit_period\" varchar(8) NOT NULL DEFAULT 'minute'")


def drop_columns(apps, schema_editor):
    model = apps.get_model("apikeys", "ApiKey")
    for name in FIELDS:
        schema_editor.remove_field(model, model._meta.get_field(name))


class Migration(migrations.Migration):
    dependencies = [("apikeys", "0009_key_metadata")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(model_name="apikey", name=name, field=field) for name, field in FIELDS.items()
            ],
        ),
        migrations.RunPython(add_columns, drop_columns),
    ]
