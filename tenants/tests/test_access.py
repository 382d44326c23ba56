import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import RequestFactory

from tenants.access import membership_for, require_role
from tenants.models import Role

pytestmark = pytest.mark.django_db


def _request(user):
    from django.contrib.sessions.backends.db import SessionStore

    request = RequestFactory().get("/")
    request.user = user
    request.session = SessionStore()
    return request


def test_it_returns_the_membership_of_a_member(alice, acme):
    membership = membership_for(_request(alice), "acme")
    assert membership.tenant == acme and membership.role == Role.ADMIN


def test_it_404s_for_a_non_member(charlie, acme):
    with pytest.raises(Http404):
        membership_for(_request(charlie), "acme")


def test_it_404s_alike_for_a_tenant_that_does_not_exist(alice):
    with pytest.raises(Http404):
        membership_for(_request(alice), "nosuch")


def test_it_403s_for_a_role_that_is_too_low(bob, dave, acme):
    viewer = membership_for(_request(bob), "acme")
    developer = membership_for(_request(dave), "acme")
    with pytest.raises(PermissionDenied):
        require_role(viewer, Role.DEVELOPER)
    with pytest.raises(PermissionDenied):
        require_role(developer, Role.ADMIN)
    assert require_role(developer, Role.DEVELOPER) is developer
