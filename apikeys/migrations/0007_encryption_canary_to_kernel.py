# The encryption canary belongs to the kernel now (kernel/migrations/0001_initial.py adopts the
# table); the keys app forgets the model without dropping the table.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("apikeys", "0006_api_page_index"),
        ("kernel", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="EncryptionCanary")],
            database_operations=[],
        ),
    ]
