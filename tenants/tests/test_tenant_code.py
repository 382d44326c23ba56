import re

import pytest
from django.core.exceptions import ValidationError

from tenants.forms import TenantCreateForm
from tenants.models import Tenant, validate_tenant_code

GOOD = ["abc", "acme", "a1b2c3", "shop2026", "abcdefghijklmnop"]
BAD = ["ab", "1abc", "Acme", "ac-me", "ac_me", "acme shop", "abcdefghijklmnopq", "", "äbc", "acme\n"]


@pytest.mark.parametrize("code", GOOD)
def test_it_accepts_good_codes(code):
    validate_tenant_code(code)


@pytest.mark.parametrize("code", BAD)
def test_it_rejects_bad_codes(code):
    with pytest.raises(ValidationError):
        validate_tenant_code(code)


@pytest.mark.parametrize("code", GOOD + BAD)
def test_the_browser_checks_the_same_rule_in_the_forms_pattern(code):
    # An HTML pattern must match the whole value, as fullmatch does.
    pattern = TenantCreateForm().fields["code"].widget.attrs["pattern"]
    assert bool(re.fullmatch(pattern, code)) == (code in GOOD)


@pytest.mark.django_db
def test_the_database_refuses_a_bad_code_too():
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        Tenant.objects.create(code="Bad-Code", name="x")
