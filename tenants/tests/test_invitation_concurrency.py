"""Concurrent accepts of one invitation on PostgreSQL: the invitation row lock serialises them,
so the link works once, for one new account and one membership."""

import pytest
from django.db import connection

from accounts.models import User
from activity.audit import Audit
from activity.models import Action, ActivityEntry
from conftest import all_at_once
from tenants import services
from tenants.models import Invitation, Membership

pytestmark = pytest.mark.django_db(transaction=True)

ACCEPTS = 4


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_parallel_accepts_of_one_link_make_one_member(alice, acme, mailoutbox):
    services.invitation_send(tenant=acme, email="new@example.com", role="viewer", accept_url="http://testserver/a/")
    token = mailoutbox[0].body.split("token=")[1].split()[0]

    def accept() -> str:
        user = User(email="new@example.com")
        try:
            services.invitation_accept(token=token, user=user, password="a-long-new-pass-2026", audit=Audit(actor=user))
        except services.InvitationError:
            return "refused"
        return "accepted"

    assert sorted(all_at_once(ACCEPTS, accept)) == ["accepted"] + ["refused"] * (ACCEPTS - 1)
    assert User.objects.filter(email="new@example.com").count() == 1
    assert Membership.objects.filter(tenant=acme, user__email="new@example.com").count() == 1
    assert ActivityEntry.objects.filter(action=Action.INVITATION_ACCEPTED).count() == 1
    assert not Invitation.objects.exists()
