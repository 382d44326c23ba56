"""Token rows refer to their scopes (issue 25, docs/token-storage.md): the scope-set table, the
token's reference to it, the copied names made optional for the rows that still have them, no
constraint or index of the token's own on its key and secret, and no tenant column (the key's). Every step is a change
of the catalogue alone (a new table, a NULL column, dropped constraints and indexes): nothing
rewrites or scans the token table, so it runs in moments on a table of millions."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("apikeys", "0001_initial"),
        ("oauth", "0003_signing_keys"),
        ("tenants", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="ScopeSet",
            fields=[
                ("id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("names", models.TextField(help_text="Scope names, space-separated, in the order granted.")),
            ],
        ),
        migrations.AddField(
            model_name="accesstoken",
            name="scope_set",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="oauth.scopeset",
            ),
        ),
        migrations.AlterField(
            model_name="accesstoken",
            name="scopes",
            field=models.TextField(blank=True, help_text="Granted scopes of a row from before scope sets.", null=True),
        ),
        migrations.AlterField(
            model_name="accesstoken",
            name="key",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="tokens",
                to="apikeys.apikey",
            ),
        ),
        migrations.AlterField(
            model_name="accesstoken",
            name="secret",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="tokens",
                to="apikeys.apisecret",
            ),
        ),
        # The tenant is the key's: a column dropped is a change of the catalogue alone.
        migrations.RemoveField(model_name="accesstoken", name="tenant"),
    ]
