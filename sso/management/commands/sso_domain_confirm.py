"""An operator's proof of a claimed e-mail domain, where the portal reaches no DNS."""

from django.core.management.base import BaseCommand, CommandError

from activity.audit import SYSTEM
from sso import services
from sso.models import ClaimedDomain


class Command(BaseCommand):
    help = "Confirm that TENANT owns DOMAIN (a claim its admins made), as an operator who checked it."

    def add_arguments(self, parser) -> None:
        parser.add_argument("tenant", help="the tenant's code")
        parser.add_argument("domain", help="the claimed e-mail domain")

    def handle(self, *args, tenant: str, domain: str, **options) -> None:
        claimed = ClaimedDomain.objects.filter(tenant__code=tenant, domain=domain.strip().lower()).first()
        if claimed is None:
            raise CommandError(
                f"{tenant} has not claimed {domain}: its admins claim it on the tenant's SSO page first."
            )
        if claimed.is_verified:
            self.stdout.write(
                f"{claimed.domain} was already proved for {tenant} ({claimed.get_verified_by_display()})."
            )
            return
        try:
            services.domain_verified(claimed=claimed, audit=SYSTEM, proof=ClaimedDomain.Proof.OPERATOR)
        except services.DomainError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{claimed.domain} is proved for {tenant}.")
