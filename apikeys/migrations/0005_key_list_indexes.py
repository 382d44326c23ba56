# The keys list's sort orders (apikeys.views.listing): a page of a tenant's thousands of keys is
# read in index order instead of sorting them all.

import django.db.models.functions.text
from django.db import migrations, models

LAST_USED = models.Index(
    models.F("tenant"),
    models.F("kind"),
    models.OrderBy(models.F("last_used_at"), nulls_first=True),
    name="apikey_list_by_last_used",
)


def create_last_used_index(apps, schema_editor):
    # Never used first, as the list sorts them. SQLite puts NULLs first in ascending order
    # anyway and refuses the clause in an index; PostgreSQL needs it.
    nulls = " NULLS FIRST" if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(
        f'CREATE INDEX "apikey_list_by_last_used" ON "apikeys_apikey" ("tenant_id", "kind", "last_used_at" ASC{nulls})'
    )


def drop_last_used_index(apps, schema_editor):
    schema_editor.execute('DROP INDEX "apikey_list_by_last_used"')


class Migration(migrations.Migration):

    dependencies = [
        ('apikeys', '0004_token_format'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='apikey',
            index=models.Index(models.F('tenant'), models.F('kind'), django.db.models.functions.text.Lower('name'), name='apikey_list_by_name'),
        ),
        migrations.AddIndex(
            model_name='apikey',
            index=models.Index(fields=['tenant', 'kind', 'created_at'], name='apikey_list_by_created'),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="apikey", index=LAST_USED)],
            database_operations=[migrations.RunPython(create_last_used_index, drop_last_used_index)],
        ),
    ]
