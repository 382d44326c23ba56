from django.core.management.base import BaseCommand

from apikeys.hygiene import hygiene_run


class Command(BaseCommand):
    help = (
        "Key hygiene, once a day: expiry and renew-by reminders to tenant admins (once each), "
        "expired keys recorded, dormant keys warned about and disabled where the tenant asks for it."
    )

    def handle(self, *args, **options) -> None:
        report = hygiene_run()
        if report is None:
            # Started with another run (another host's timer): that one does the work. Not
            # a failure, so the exit status stays 0 and systemd records no failed unit.
            self.stdout.write("Another key-hygiene run holds the lock; this run did nothing.")
            return
        self.stdout.write(str(report))
