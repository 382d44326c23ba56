"""Every form of the portal shows its errors the same way (templates/_error_summary.html and
_form_fields.html): a summary at the top, focused on load, listing each error with a link to
its field; at the field, the error's id in the widget's aria-describedby and aria-invalid."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def summary_of(body: str) -> str:
    found = re.search(r'<div class="error-summary" data-error-summary tabindex="-1" autofocus.*?</div>', body, re.S)
    assert found, "no focused error summary"
    return found.group(0)


def test_the_summary_links_each_field_error_and_the_field_points_at_it(client_for, alice, acme):
    # alice is acme's admin, so she may add tenants (TENANT_CREATORS=staff-and-admins).
    response = client_for(alice).post(reverse("tenants:list"), {"code": "9bad", "name": ""})
    assert response.status_code == 400
    body = response.content.decode()
    summary = summary_of(body)
    links = re.findall(r'<li><a href="#(id_\w+)">([^<]*)</a></li>', summary)
    assert [target for target, _ in links] == ["id_code", "id_name"]
    assert links[1][1] == "Display name: This field is required."
    for target, _ in links:
        widget = re.search(rf'<input [^>]*id="{target}"[^>]*>', body).group(0)
        assert 'aria-invalid="true"' in widget
        described = re.search(r'aria-describedby="([^"]*)"', widget).group(1).split()
        assert f"{target}_error" in described
        assert f'id="{target}_error"' in body
        for other in described:
            assert f'id="{other}"' in body  # every id it names exists


def test_a_non_field_error_is_in_the_summary(client, alice):
    response = client.post(reverse("login"), {"username": "alice@example.com", "password": "wrong"})
    body = response.content.decode()
    summary = summary_of(body)
    assert "<li>" in summary and "password" in summary.lower()
    assert body.count("data-error-summary") == 1


def test_a_valid_page_has_no_summary(client_for, alice):
    assert "data-error-summary" not in client_for(alice).get(reverse("tenants:list")).content.decode()
