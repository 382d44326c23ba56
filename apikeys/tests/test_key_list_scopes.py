"""What a key can do, at a glance (issue 20, items 8, 9, 13, 14): scopes grouped by service with
counts and the operations they open, in the card, the table's popover and the key's Scopes page;
why a scope opens no operation; why a viewer sees bullets; what works without JavaScript."""

import re

import pytest
from django.urls import reverse
from django.utils.html import escape

from apikeys import scope_summary as summaries
from apikeys.auth import builtin_scope_names
from apikeys.models import KeyKind
from apikeys.scope_summary import NO_OPERATION_NOTE, scope_summary
from apikeys.services import key_create
from scopes.models import Scope
from scopes.unlocks import operation_count, unlocked

pytestmark = pytest.mark.django_db

LIST = reverse("apikeys:list", kwargs={"code": "acme"})
NAMES = ["tax.tax_read", "tax.tax_manage", "brand.brand_manage", "approval.approval_read"]


def _key(tenant, name="Mixed", names=NAMES):
    return key_create(tenant=tenant, kind=KeyKind.CUSTOM, name=name, scopes=Scope.objects.filter(name__in=names))[0]


def _card(body: str, key) -> str:
    start = body.index(f'id="key-{key.public_id}"')
    return body[start : body.index("</article>", start)]


def test_the_summary_groups_by_service_in_catalogue_order_with_operations(catalogue):
    summary = scope_summary(tuple(sorted(NAMES)))
    services = {service.key: service for service in summary.services}
    assert set(services) == {"tax", "brand", "approval"}
    assert [s.key for s in summary.services] == [
        s.key for s in sorted(summary.services, key=lambda s: Scope.objects.get(name=s.scopes[0].name).service.position)
    ]
    tax = services["tax"]
    assert tax.name == Scope.objects.get(name="tax.tax_read").service.name
    assert {s.name: s.operations for s in tax.scopes} == {
        n: operation_count(n) for n in ("tax.tax_read", "tax.tax_manage")
    }
    assert list(tax.operations) == [
        op for group in unlocked(["tax.tax_read", "tax.tax_manage"]) for op in group.operations
    ]
    assert tax.operation_count > 0 and services["approval"].operation_count == 0
    assert summary.scope_count == 4 and summary.has_no_operation_scope
    assert summary.operation_count == sum(len(g.operations) for g in unlocked(NAMES))


def test_the_summary_is_built_once_per_distinct_scope_set(catalogue):
    names = tuple(sorted(NAMES))
    first = scope_summary(names)
    assert scope_summary(names) is first  # memoised
    assert scope_summary(builtin_scope_names(KeyKind.STOREFRONT)) is not first
    summaries.clear()
    assert scope_summary(names) is not first and scope_summary(names) == first


def test_a_card_shows_scopes_by_service_with_counts_and_explains_no_operation(client_for, alice, acme):
    key = _key(acme)
    body = client_for(alice).get(LIST + "?view=cards").content.decode()
    card = _card(body, key)
    tax = next(s for s in scope_summary(tuple(sorted(NAMES))).services if s.key == "tax")
    assert "4 scopes in 3 services · opens " in card
    assert (
        f'<h4 class="scope-group-title">{tax.name} <span class="muted">2 scopes · {tax.operation_count} operations</span></h4>'
        in card
    )
    # Service headings name the service, never the key again.
    headings = re.findall(r'<h4 class="scope-group-title">(.*?) <span', card)
    assert headings and all(key.name not in heading for heading in headings)
    assert f"{operation_count('tax.tax_read')} op" in card
    assert "no operation (see the note)" in card and escape(str(NO_OPERATION_NOTE)) in card
    assert reverse("apikeys:scopes", kwargs={"code": "acme", "key_id": key.public_id}) in card
    # A key whose scopes all open operations has no note.
    other = _key(acme, "Taxes only", ["tax.tax_read"])
    body = client_for(alice).get(LIST + "?view=cards").content.decode()
    assert escape(str(NO_OPERATION_NOTE)) not in _card(body, other)


def test_the_built_in_cards_group_their_scopes_too(client_for, alice, acme):
    body = client_for(alice).get(LIST).content.decode()
    emporix = scope_summary(builtin_scope_names(KeyKind.EMPORIX))
    assert f"174 scopes in {emporix.service_count} services · opens {emporix.operation_count} operations" in body
    assert emporix.service_count > 30


def test_the_table_popover_groups_by_service(client_for, alice, acme):
    keys = [_key(acme, f"Key {n}") for n in range(6)]  # more than a handful: the table
    body = client_for(alice).get(LIST).content.decode()
    row = body[body.index(f'<tr id="key-{keys[0].public_id}"') :]
    row = row[: row.index("</tr>")]
    assert "3 services · opens " in row
    tax = Scope.objects.get(name="tax.tax_read").service.name
    assert f'<span class="scope-service-name">{tax}</span> <span class="muted">2 scopes · ' in row
    assert "<code>tax.tax_read</code>" in row


def test_the_scopes_page_lists_the_operations_each_service_opens(client_for, bob, acme):
    key = _key(acme)
    response = client_for(bob).get(reverse("apikeys:scopes", kwargs={"code": "acme", "key_id": key.public_id}))
    assert response.status_code == 200
    body = response.content.decode()
    for group in unlocked(["tax.tax_read", "tax.tax_manage"]):
        for operation in group.operations:
            assert f"<code>{escape(operation)}</code>" in body
    assert escape(str(NO_OPERATION_NOTE)) in body and "opens no operation (see the note above)" in body


def test_a_viewer_is_told_why_secrets_are_hidden_and_who_can_show_them(client_for, alice, dave, bob, acme):
    line = "Secrets are hidden (••••) because your role in"
    body = client_for(bob).get(LIST).content.decode()
    assert line in body and "is Viewer: viewers never see a secret" in body
    assert "admins and developers can show and copy them" in body
    for user in (alice, dave):
        assert line not in client_for(user).get(LIST).content.decode()


def test_get_started_code_blocks_are_focusable_regions_and_copy_needs_javascript(client_for, bob, acme_secrets):
    key = acme_secrets["emporix"][0]
    body = client_for(bob).get(reverse("apikeys:get_started", kwargs={"code": "acme", "key_id": key.public_id}))
    text = body.content.decode()
    pres = re.findall(r"<pre[^>]*>", text)
    assert pres and all('tabindex="0"' in pre and 'role="region"' in pre and "aria-label=" in pre for pre in pres)
    buttons = re.findall(r"<button[^>]*data-copy-snippet[^>]*>", text)
    assert buttons and all(" hidden" in button for button in buttons)
    # A viewer's copy holds the mask: the button says so, and get-started.js says "Copied (secret masked)".
    assert any("data-masked" in button for button in buttons)


def test_the_new_secrets_copy_button_waits_for_javascript(client_for, alice, acme):
    client = client_for(alice)
    response = client.post(
        reverse("apikeys:create", kwargs={"code": "acme"}), {"name": "Fresh", "scopes": ["tax.tax_read"]}, follow=True
    )
    body = response.content.decode()
    notice = body[body.index('id="key-notice"') :]
    notice = notice[: notice.index("</div>")]
    assert "data-copy-secret hidden" in notice and "Copy the new secret" in notice
    assert "<noscript><p>The new secret is shown in full under <strong>Secret</strong> below" in notice


def test_the_picker_counts_without_javascript_and_explains_no_operation(client_for, alice, acme):
    client = client_for(alice)
    url = reverse("apikeys:create", kwargs={"code": "acme"})
    body = client.get(url).content.decode()
    assert "0 scopes selected" in body and '<span class="scope-counter"></span>' in body
    assert f"data-no-operation-note hidden>{escape(str(NO_OPERATION_NOTE))}" in body
    # Re-rendered with an error, the server's count is that of the ticked boxes.
    body = client.post(url, {"name": "", "scopes": NAMES}).content.decode()
    assert "4 scopes selected" in body
    assert "no operation (see below)" in body
    assert f"data-no-operation-note>{escape(str(NO_OPERATION_NOTE))}" in body


def test_a_built_in_card_does_not_repeat_its_groups_heading(client_for, alice, acme_secrets):
    body = client_for(alice).get(LIST).content.decode()
    for kind in (KeyKind.EMPORIX, KeyKind.STOREFRONT):
        key = acme_secrets[kind][0]
        section = body[body.index(f'aria-labelledby="group-{kind}"') :]
        section = section[: section.index("</section>")]
        assert section.count(key.name) >= 1 and f'<h2 id="group-{kind}">{key.name}</h2>' in section
        assert not re.search(r"<h[1-6][^>]*>\s*" + re.escape(key.name), section.split("</h2>", 1)[1])
        # Its service headings are one level below the group's (h2), as a custom card's are below its h3.
        assert '<h3 class="scope-group-title">' in section and "<h4" not in section
        # The card is still named by the key (for its aria-labelledby), once, for screen readers.
        assert (
            f'<p class="key-title" id="key-{key.public_id}-name"><span class="visually-hidden">{key.name}</span>'
            in section
        )
