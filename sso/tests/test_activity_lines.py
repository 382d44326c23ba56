"""SSO entries read as sentences on the Activity page."""

import pytest

from activity.audit import SYSTEM
from activity.display import details_lines
from activity.models import Action, ActivityEntry
from sso import services

pytestmark = pytest.mark.django_db


def test_sso_entries_read_well(acme, alice, client_for):
    services.enforcement_set(tenant=acme, audit=SYSTEM, required=False, exempt_user_ids={alice.pk})
    claimed = services.domain_claim(tenant=acme, audit=SYSTEM, domain="example.com")
    services.domain_verified(claimed=claimed, audit=SYSTEM, proof="operator")
    lines = {entry.action: details_lines(entry) for entry in ActivityEntry.objects.filter(action__startswith="sso.")}
    assert lines[Action.SSO_ENFORCEMENT_CHANGED] == ["Break-glass admins: alice@example.com"]
    assert sorted(lines[Action.SSO_DOMAIN_VERIFIED]) == ["Domain: example.com", "Proved by: operator"]
    page = client_for(alice).get("/tenants/acme/activity/").content.decode()
    assert "E-mail domain proved" in page and "Break-glass admins: alice@example.com" in page
