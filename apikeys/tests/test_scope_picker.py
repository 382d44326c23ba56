"""The scope picker as the server draws it (what a browser without JavaScript gets): services
collapsed with their counts, every checkbox inside its service, the chosen scopes with the
operations of the route table they unlock, and on edit the change against the saved scopes."""

import json
import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from apikeys.models import ApiKey, KeyKind
from apikeys.services import key_create
from scopes.models import Scope
from scopes.routes import route_table
from scopes.unlocks import picker_data, scope_diff, unlocked

pytestmark = pytest.mark.django_db
CREATE_URL = reverse("apikeys:create", kwargs={"code": "acme"})


def edit_url(key):
    return reverse("apikeys:edit", kwargs={"code": "acme", "key_id": key.public_id})


def operations_of(scope: str) -> list[str]:
    return [f"{route.method} {route.path}" for route in route_table().opened_by_scope(scope)]


class CheckboxPlacement(HTMLParser):
    """For every scope checkbox: the id of the <details> it sits in (None if outside one);
    and which <details> are open."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[dict] = []
        self.placement: dict[str, str | None] = {}
        self.open: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "details":
            self.stack.append(attrs)
            if "open" in attrs and attrs.get("id"):
                self.open.add(attrs["id"])
        if tag == "input" and attrs.get("name") == "scopes":
            inside = [item.get("id") for item in self.stack if item.get("id", "").startswith("service-")]
            self.placement[attrs["value"]] = inside[-1] if inside else None

    def handle_endtag(self, tag):
        if tag == "details":
            self.stack.pop()


def parse(body: str) -> CheckboxPlacement:
    parser = CheckboxPlacement()
    parser.feed(body)
    return parser


@pytest.fixture
def custom_key(acme):
    key, _ = key_create(
        tenant=acme,
        kind=KeyKind.CUSTOM,
        name="Shop",
        scopes=Scope.objects.filter(name__in=["tax.tax_read", "category.category_manage"]),
    )
    return key


def test_every_offered_scope_is_a_checkbox_inside_its_collapsed_service(client_for, alice, acme):
    body = client_for(alice).get(CREATE_URL).content.decode()
    page = parse(body)
    offered = set(Scope.objects.offered().values_list("name", "service__key"))
    assert len(page.placement) == len(offered) > 150
    for name, service in offered:
        assert page.placement[name] == f"service-{service}"
    assert page.open == set()  # nothing chosen: every service collapsed, one line each
    assert '<span class="service-count" data-service-count>0/2<span class="visually-hidden"> chosen</span>' in body


def test_without_javascript_the_ticked_boxes_are_what_is_posted(client_for, alice, acme):
    # A browser without scripts posts the checkboxes of closed <details> like any other.
    response = client_for(alice).post(
        CREATE_URL, {"name": "No script", "scopes": ["tax.tax_read", "brand.brand_manage"]}
    )
    assert response.status_code == 302
    key = ApiKey.objects.get(tenant=acme, kind=KeyKind.CUSTOM)
    assert sorted(key.scopes.values_list("name", flat=True)) == ["brand.brand_manage", "tax.tax_read"]


def test_the_edit_form_opens_the_services_with_chosen_scopes_and_counts_them(client_for, alice, custom_key):
    body = client_for(alice).get(edit_url(custom_key)).content.decode()
    assert parse(body).open == {"service-tax", "service-category"}
    assert re.search(r'id="service-tax" open>.*?data-service-count>1/2<', body, re.S)


def test_the_summary_lists_each_chosen_scope_with_what_it_unlocks(client_for, alice, acme):
    response = client_for(alice).post(CREATE_URL, {"name": "", "scopes": ["tax.tax_read"]})
    assert response.status_code == 400
    body = response.content.decode()
    tax_read = operations_of("tax.tax_read")
    assert tax_read == ["GET /tax/{tenant}/taxes", "GET /tax/{tenant}/taxes/{locationCode}"]
    assert '<li><span><code>tax.tax_read</code> <span class="muted">2 operations</span></span></li>' in body
    assert "Unlocks <span data-radius-count>2</span> <span data-radius-noun>operations</span>" in body
    radius = body[body.index("data-radius-list") : body.index("need no particular scope")]
    assert '<p class="operations-service">tax <span class="muted">(2)</span></p>' in radius
    for operation in tax_read:
        assert f"<code>{operation}</code>" in radius
    assert "/brand/" not in radius


def test_the_route_data_for_the_script_is_embedded_compactly(client_for, alice, acme):
    body = client_for(alice).get(CREATE_URL).content.decode()
    found = re.search(r'<script id="scope-routes" type="application/json">(.*?)</script>', body, re.S)
    data = json.loads(found.group(1))
    assert data == picker_data()
    opened = [data["operations"][index] for index in data["scopes"]["category.category_manage"]]
    assert opened == operations_of("category.category_manage")
    assert len(found.group(1)) < 40_000


def test_unlocked_groups_the_operations_of_several_scopes_by_service():
    groups = unlocked(["tax.tax_read", "brand.brand_manage", "tax.tax_read"])
    assert [group.service for group in groups] == ["brand", "tax"]
    assert groups[1].operations == operations_of("tax.tax_read")
    assert groups[0].operations == operations_of("brand.brand_manage")


def test_the_diff_counts_an_operation_another_kept_scope_still_opens_as_neither_gained_nor_lost():
    # POST /category/{tenant}/categories accepts category_manage or category_publish.
    diff = scope_diff(["category.category_manage"], ["category.category_publish", "tax.tax_read"])
    assert diff.added == ["category.category_publish", "tax.tax_read"]
    assert diff.removed == ["category.category_manage"]
    gained = {op for group in diff.gained for op in group.operations}
    lost = {op for group in diff.lost for op in group.operations}
    assert set(operations_of("tax.tax_read")) <= gained
    assert "POST /category/{tenant}/categories" not in gained | lost
    manage_only = set(operations_of("category.category_manage")) - set(operations_of("category.category_publish"))
    assert lost == manage_only and lost


def test_editing_shows_the_change_against_the_saved_scopes(client_for, alice, custom_key):
    client = client_for(alice)
    unchanged = client.get(edit_url(custom_key)).content.decode()
    assert "Changes to save" in unchanged and "The scopes are unchanged." in unchanged
    assert (
        '<script id="scope-held" type="application/json">["category.category_manage", "tax.tax_read"]</script>'
        in unchanged
    )

    # An error re-renders the form with the change the admin is about to make.
    response = client.post(edit_url(custom_key), {"name": "", "scopes": ["tax.tax_read", "brand.brand_manage"]})
    assert response.status_code == 400
    body = response.content.decode()
    diff = body[body.index("data-diff-body") :]
    assert "Added: <code>brand.brand_manage</code>" in diff
    assert "Removed: <code>category.category_manage</code>" in diff
    gained, lost = operations_of("brand.brand_manage"), operations_of("category.category_manage")
    assert f"Gains {len(gained)} operations" in diff and f"Loses {len(lost)} operations" in diff
    for operation in gained + lost:
        assert f"<code>{operation}</code>" in diff


def test_the_create_form_has_no_diff_and_says_what_the_button_does(client_for, alice, acme):
    body = client_for(alice).get(CREATE_URL).content.decode()
    assert "Changes to save" not in body and "scope-held" not in body
    assert '<button type="submit" class="button primary">Generate key</button>' in body


def test_the_form_page_makes_the_same_queries_for_many_chosen_scopes(
    client_for, alice, acme, django_assert_max_num_queries
):
    client = client_for(alice)
    client.get(CREATE_URL)
    every = list(Scope.objects.offered().values_list("name", flat=True))
    with django_assert_max_num_queries(14):
        response = client.post(CREATE_URL, {"name": "", "scopes": every})
    assert f"{len(every)} scopes selected" in response.content.decode()
