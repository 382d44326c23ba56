from django.core.management.base import BaseCommand

from apikeys.hygiene import hygiene_run


class Command(BaseCommand):
    help = (
        "Key hygiene, once a day: expiry and renew-by reminders to tenant admins (once each), "
        "expired keys recorded, dormant keys warned about and disabled where the tenant asks for it."
    )

    def handle(self, *args, **options) -> None:
        report = hygiene_run()
        self.stdout.write(str(report))
