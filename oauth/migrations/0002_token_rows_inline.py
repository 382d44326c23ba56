"""PostgreSQL: keep token rows up to a page inline and uncompressed. A token of the Emporix API
key stores its 174 scope names (about 4 KB); by default PostgreSQL compresses every such row on
INSERT, which cost the token endpoint more than the rest of the statement. Larger rows are
still TOASTed as usual. Nothing to do on other databases."""

from django.db import migrations


def _set_target(apps, schema_editor, value: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("oauth", "AccessToken")._meta.db_table)
    schema_editor.execute(f"ALTER TABLE {table} SET (toast_tuple_target = {value})")


def forwards(apps, schema_editor) -> None:
    _set_target(apps, schema_editor, "8160")


def backwards(apps, schema_editor) -> None:
    _set_target(apps, schema_editor, "2032")


class Migration(migrations.Migration):
    dependencies = [("oauth", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
