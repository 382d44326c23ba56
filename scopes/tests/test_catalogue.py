import copy
import json

import pytest
from django.core.management import call_command
from django.db import transaction

from apikeys.models import ApiKey
from apikeys.services import key_create
from scopes.catalogue import load_catalogue, read_catalogue
from scopes.models import Scope, Service

pytestmark = pytest.mark.django_db


def _snapshot():
    return (
        list(Service.objects.order_by("key").values()),
        list(Scope.objects.order_by("name").values()),
    )


# Emporix's 39 services and 174 scopes, plus the project's own "Portal API" service with its 7
# (scopes/data/portal-scopes.json), one of which (portal.tenant_manage) is for operators only.
def test_a_fresh_database_has_the_catalogue_after_migrate():
    assert Service.objects.count() == 39 + 1
    assert Scope.objects.count() == 174 + 7
    assert Scope.objects.offered().count() == 174 + 6
    assert Scope.objects.filter(storefront=True).count() == 24
    assert Scope.objects.get(name="product.product_manage").service.key == "product"


def test_scope_names_follow_the_convention():
    import re

    for name, service_key in Scope.objects.values_list("name", "service__key"):
        assert re.fullmatch(r"[a-z][a-z0-9-]*\.[a-z0-9]+(_[a-z0-9]+)+", name), name
        assert name.startswith(service_key + ".")


def test_loading_twice_changes_nothing():
    before = _snapshot()
    with transaction.atomic():
        report = load_catalogue(Service, Scope)
    assert not report.changed
    assert _snapshot() == before


def test_the_command_is_idempotent(capsys):
    call_command("load_scopes")
    call_command("load_scopes")
    assert "up to date" in capsys.readouterr().out
    assert Scope.objects.count() == 174 + 7


def test_a_changed_description_is_updated_and_a_new_scope_added():
    data = copy.deepcopy(read_catalogue())
    product = next(s for s in data["services"] if s["key"] == "product")
    product["scopes"][0]["description"] = "A better description."
    product["scopes"].append({"name": "product.brandnew_read", "description": "New."})
    with transaction.atomic():
        report = load_catalogue(Service, Scope, data)
    assert report.scopes_updated == 1 and report.scopes_created == 1
    assert Scope.objects.get(name=product["scopes"][0]["name"]).description == "A better description."
    assert Scope.objects.filter(name="product.brandnew_read", deprecated=False).exists()


def test_a_scope_that_left_the_catalogue_is_kept_deprecated_and_its_key_keeps_it(alice):
    from tenants.services import tenant_create

    tenant, _ = tenant_create(code="acme", name="Acme", creator=alice)
    held = Scope.objects.get(name="brand.brand_delete")
    key, _ = key_create(tenant=tenant, kind="custom", name="Brands", scopes=[held])
    data = copy.deepcopy(read_catalogue())
    for service in data["services"]:
        service["scopes"] = [
            s for s in service["scopes"] if s["name"] not in {"brand.brand_delete", "brand.brand_manage"}
        ]
    with transaction.atomic():
        report = load_catalogue(Service, Scope, data)
    held.refresh_from_db()
    assert held.deprecated
    assert list(ApiKey.objects.get(pk=key.pk).scopes.all()) == [held]
    assert Scope.objects.get(name="brand.brand_manage").deprecated  # held by no key: kept all the same
    assert sorted(report.scopes_deprecated) == ["brand.brand_delete", "brand.brand_manage"]
    assert not Scope.objects.offered().filter(name__in=report.scopes_deprecated).exists()


def test_scopes_listed_as_deprecated_are_kept_but_not_offered():
    data = copy.deepcopy(read_catalogue())
    data["deprecated_scopes"].append({"name": "tax.tax_read", "replaced_by": "tax.tax_manage"})
    with transaction.atomic():
        load_catalogue(Service, Scope, data)
    scope = Scope.objects.get(name="tax.tax_read")
    assert scope.deprecated and scope.replaced_by == "tax.tax_manage"
    assert not Scope.objects.offered().filter(pk=scope.pk).exists()


def test_the_project_copy_matches_the_shared_catalogue_shape():
    data = read_catalogue()
    assert len(data["services"]) == 39
    assert sum(len(s["scopes"]) for s in data["services"]) == 174
    json.dumps(data)  # plain data
