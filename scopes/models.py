from django.db import models

# The management API's service (scopes/data/portal-scopes.json). The Emporix API key, which holds
# every offered scope, does not hold these: the shop's key cannot manage keys.
PORTAL_SERVICE_KEY = "portal"
# Held only by operator keys (manage.py create_operator_key): never offered to a tenant's keys.
OPERATOR_SCOPES = frozenset({"portal.tenant_manage"})


class Service(models.Model):
    """An Emporix service whose scopes keys can hold (e.g. "Product Service")."""

    key = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=128)
    reference_url = models.URLField(max_length=500, blank=True)
    note = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class ScopeQuerySet(models.QuerySet["Scope"]):
    def offered(self) -> "ScopeQuerySet":
        """Scopes that new keys may be given: every scope that is not deprecated, but for the
        operators' own."""
        return self.filter(deprecated=False).exclude(name__in=OPERATOR_SCOPES)


class Scope(models.Model):
    """One scope, named `[service].[resource]_[action]`."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="scopes")
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    source = models.CharField(max_length=64, blank=True)
    storefront = models.BooleanField(default=False, help_text="In the Storefront API key's set.")
    deprecated = models.BooleanField(default=False, help_text="Kept for keys that hold it, not offered.")
    replaced_by = models.CharField(max_length=100, blank=True)
    position = models.PositiveIntegerField(default=0)

    objects = ScopeQuerySet.as_manager()

    class Meta:
        ordering = ["service__position", "position", "name"]

    def __str__(self) -> str:
        return self.name
