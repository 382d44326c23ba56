"""Queries compiled once (kernel/db.py): run with other values, they give what the ORM gives,
on SQLite and PostgreSQL alike (Django's converters included), and a marker that does not come
out as a parameter is refused at compile time."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import QuerySet
from django.utils import timezone

from apikeys.models import ApiKey
from apikeys.services import key_create
from kernel.db import compile_once
from scopes.models import Scope

pytestmark = pytest.mark.django_db

MARKERS = {"tenant": -9001, "name": "\x01name\x01", "since": datetime(2000, 1, 1, tzinfo=UTC)}
COLUMNS = ("pk", "name", "created_at", "public_id", "disabled_at")


def _query(tenant, name, since) -> QuerySet:
    return (
        ApiKey.objects.filter(tenant=tenant, name__icontains=name, created_at__gt=since)
        .order_by("pk")
        .values_list(*COLUMNS)
    )


@pytest.fixture
def keys(acme, globex):
    tax = Scope.objects.filter(name="tax.tax_read")
    for owner in (acme, globex):
        for name in ["Sync 50%", "Sync 500", "Sync_a", "Syncba", "Other"]:
            key_create(tenant=owner, kind="custom", name=name, scopes=tax)
    return acme


@pytest.mark.parametrize("name", ["sync", "50%", "c_a", "\\", "nothing"])
def test_a_compiled_query_gives_what_the_orm_gives(keys, name):
    compiled = compile_once(_query(**MARKERS), MARKERS)
    since = timezone.now() - timedelta(hours=1)
    rows = compiled.rows({"tenant": keys.pk, "name": name, "since": since})
    assert rows == list(_query(keys.pk, name, since))
    assert all(isinstance(row[2], datetime) and row[2].tzinfo is not None for row in rows)  # converted on SQLite too


def test_its_values_are_parameters_not_sql(keys):
    compiled = compile_once(_query(**MARKERS), MARKERS)
    rows = compiled.rows({"tenant": keys.pk, "name": "' OR '1'='1", "since": timezone.now() - timedelta(hours=1)})
    assert rows == []
    assert "\x01name\x01" not in compiled.sql and "-9001" not in compiled.sql


def test_a_marker_that_is_not_a_parameter_is_refused():
    with pytest.raises(RuntimeError, match="since"):
        compile_once(
            ApiKey.objects.filter(tenant=-9001).values_list("pk"), {"tenant": -9001, "since": MARKERS["since"]}
        )
