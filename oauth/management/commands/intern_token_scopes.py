from django.core.management.base import BaseCommand

from oauth.services import tokens_intern_scopes


class Command(BaseCommand):
    help = (
        "Move access tokens issued before scope sets (each row a copy of its scope names) to a "
        "shared scope set, in batches; safe to stop and run again, and while tokens are issued."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument("--pause", type=float, default=0.0, help="Seconds to wait between batches.")

    def handle(self, *args, **options):
        def progress(moved: int) -> None:
            if options["verbosity"] > 1:
                self.stdout.write(f"{moved} token(s) moved so far")

        moved = tokens_intern_scopes(batch_size=options["batch_size"], pause=options["pause"], progress=progress)
        self.stdout.write(f"Moved {moved} token(s) to scope sets.")
