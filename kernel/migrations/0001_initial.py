# The encryption canary moved from the keys app to the kernel: the table stays where it is
# (apikeys_encryptioncanary); only Django's idea of which app owns it changes.

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("apikeys", "0006_api_page_index"),  # a database that has the table gets it adopted
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="EncryptionCanary",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("key_id", models.CharField(editable=False, max_length=32, unique=True)),
                        ("ciphertext", models.BinaryField(editable=False)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                    ],
                    options={"db_table": "apikeys_encryptioncanary"},
                ),
            ],
            database_operations=[],
        ),
    ]
