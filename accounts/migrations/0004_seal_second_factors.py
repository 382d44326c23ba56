"""Seal the second factors' secrets stored before accounts.sealing (allauth keeps them in the
clear by default): the authenticator apps' keys and the recovery codes' seeds."""

from django.db import migrations


def seal(apps, schema_editor):
    from accounts.sealing import FIELDS, authenticators_reseal

    Authenticator = apps.get_model("mfa", "Authenticator")
    if not Authenticator.objects.filter(type__in=list(FIELDS)).exists():
        return  # nothing to seal: no encryption key needed
    done, failed = authenticators_reseal(Authenticator)
    if failed:
        raise RuntimeError(f"{failed} second factor(s) could not be sealed (see the log above)")


def unseal(apps, schema_editor):
    from accounts.sealing import FIELDS, unseal as opened

    Authenticator = apps.get_model("mfa", "Authenticator")
    for row in Authenticator.objects.filter(type__in=list(FIELDS)).order_by("pk"):
        for field in FIELDS[row.type]:
            value = row.data.get(field)
            if value is not None:
                row.data[field] = [opened(v) for v in value] if isinstance(value, list) else opened(value)
        Authenticator.objects.filter(pk=row.pk).update(data=row.data)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_user_time_zone"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [migrations.RunPython(seal, unseal)]
