import pytest

from activity.models import Action, ActivityEntry
from apikeys.auth import held_scope_names
from apikeys.models import ApiKey, ApiSecret
from tenants import services
from tenants.models import Membership, Role, Tenant

pytestmark = pytest.mark.django_db


def test_creating_a_tenant_makes_the_creator_admin_and_provisions_both_keys(alice):
    tenant, keys = services.tenant_create(code="acme", name="Acme", creator=alice)

    membership = Membership.objects.get(tenant=tenant)
    assert (membership.user, membership.role) == (alice, Role.ADMIN)
    stored = {k.kind: k for k in ApiKey.objects.filter(tenant=tenant)}
    assert set(stored) == {"emporix", "storefront"}
    assert stored["emporix"].name == "Emporix API"
    assert stored["storefront"].name == "Storefront API"
    for key in stored.values():
        assert ApiSecret.objects.filter(key=key, expires_at__isnull=True).count() == 1
    assert [k.kind for k, _ in keys] == ["emporix", "storefront"]
    actions = set(ActivityEntry.objects.filter(tenant=tenant).values_list("action", flat=True))
    assert {Action.TENANT_CREATED, Action.KEY_CREATED} <= actions


def test_a_failure_while_provisioning_rolls_back_the_tenant(alice, monkeypatch):
    from apikeys import receivers  # the keys app provisions a new tenant's keys (tenants.signals)

    real_key_create = receivers.key_create

    def failing_key_create(**kwargs):
        if kwargs["kind"] == "storefront":
            raise RuntimeError("disk full")
        return real_key_create(**kwargs)

    monkeypatch.setattr(receivers, "key_create", failing_key_create)
    with pytest.raises(RuntimeError):
        services.tenant_create(code="acme", name="Acme", creator=alice)

    assert not Tenant.objects.filter(code="acme").exists()
    assert not Membership.objects.exists()
    assert not ApiKey.objects.exists()
    assert not ApiSecret.objects.exists()
    assert not ActivityEntry.objects.exists()


def test_the_builtin_keys_hold_the_catalogue_scope_sets(acme):
    emporix = ApiKey.objects.get(tenant=acme, kind="emporix")
    storefront = ApiKey.objects.get(tenant=acme, kind="storefront")
    assert len(held_scope_names(emporix)) == 174
    names = set(held_scope_names(storefront))
    assert len(names) == 24
    assert "order.order_readascustomer" in names
    assert "product.product_manage" not in names


def test_a_scope_added_to_the_catalogue_later_is_in_the_emporix_key(acme):
    from scopes.models import Scope, Service

    Scope.objects.create(service=Service.objects.get(key="product"), name="product.thing_manage")
    emporix = ApiKey.objects.get(tenant=acme, kind="emporix")
    assert "product.thing_manage" in held_scope_names(emporix)
