# Who sent each invitation, so that accepting it checks what they may give now (issue 18).

import django.db.models.deletion
from django.db import migrations, models


def existing_senders(apps, schema_editor):
    # An invitation with a person behind it was sent from the Members page. One without was sent
    # by a management API key, which nothing recorded (or by a person deleted since): it is
    # marked as a key's with the key unknown, so it cannot be accepted until an admin resends it.
    Invitation = apps.get_model("tenants", "Invitation")
    Invitation.objects.filter(invited_by__isnull=False).update(inviter_kind="person")


class Migration(migrations.Migration):
    dependencies = [
        ("apikeys", "0006_api_page_index"),
        ("tenants", "0005_tenant_deactivated_at_tenant_is_operator"),
    ]

    operations = [
        migrations.AddField(
            model_name="invitation",
            name="inviter_kind",
            field=models.CharField(
                choices=[("person", "A member"), ("key", "An API key"), ("system", "The system")],
                default="key",
                editable=False,
                max_length=8,
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="invitation",
            name="invited_by_key",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="apikeys.apikey",
            ),
        ),
        migrations.RunPython(existing_senders, migrations.RunPython.noop),
    ]
