"""What the tenants app tells the apps above it (the keys app provisions and disables keys). It
knows none of them: they connect here. Each is sent inside the service's transaction, so what
a receiver writes commits or rolls back with the tenant's change."""

from django.dispatch import Signal

# Sent with `tenant` and `audit` when a tenant is created. A receiver returns a list of what it
# provisioned (the keys app: (key, secret) pairs), which tenant_create hands to its caller.
tenant_created = Signal()

# Sent with `tenant` and `audit` when a tenant is deactivated (once).
tenant_deactivated = Signal()

# Sent with `tenant`, `changed` (policy field -> new value) and `audit` when its policy changes.
tenant_policy_changed = Signal()

# Sent with `tenant`, `user` (who left) and `audit` when a member is removed from a tenant.
member_removed = Signal()
