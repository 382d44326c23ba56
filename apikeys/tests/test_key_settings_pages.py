"""The key-hygiene pages: a key's settings (networks, expiry, token lifetime), disable and
enable, and reporting a leaked secret by pasting it."""

import urllib.parse
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from activity.models import Action, ActivityEntry
from apikeys.models import ApiKey, KeyKind
from apikeys.services import key_create
from scopes.models import Scope


def _custom(acme):
    return key_create(tenant=acme, kind=KeyKind.CUSTOM, name="Orders", scopes=Scope.objects.filter(name="tax.tax_read"))


def _settings(key):
    return reverse("apikeys:settings", kwargs={"code": key.tenant.code, "key_id": key.public_id})


def test_the_settings_page_saves_networks_expiry_and_lifetime(client_for, alice, acme):
    key, _ = _custom(acme)
    client = client_for(alice)
    page = client.get(_settings(key))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Allowed networks" in text and "Expires" in text and "Access-token lifetime" in text
    expiry = (timezone.localtime() + timedelta(days=10)).replace(second=0, microsecond=0)
    response = client.post(
        _settings(key),
        {
            "allowed_networks": "203.0.113.0/24\n2001:db8::/32",
            "expires_at": expiry.strftime("%Y-%m-%dT%H:%M"),
            "token_lifetime_minutes": "15",
        },
    )
    assert response.status_code == 302 and response.url.endswith("#key-notice")
    assert f"Settings of {key.name} saved." in _card(client.get(response.url), key)
    key.refresh_from_db()
    assert key.allowed_networks == "203.0.113.0/24\n2001:db8::/32"
    assert key.expires_at == expiry
    assert key.token_lifetime == 900
    actions = set(ActivityEntry.objects.filter(key=key).values_list("action", flat=True))
    assert {Action.KEY_NETWORKS_CHANGED, Action.KEY_EXPIRY_CHANGED, Action.KEY_CHANGED} <= actions


def test_bad_settings_get_form_errors_and_change_nothing(client_for, alice, acme):
    key, _ = _custom(acme)
    client = client_for(alice)
    past = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    for data, message in (
        ({"allowed_networks": "203.0.113.5/24"}, "has host bits set; did you mean 203.0.113.0/24?"),
        ({"allowed_networks": "", "expires_at": past}, "The expiry date must be in the future."),
        ({"allowed_networks": "", "token_lifetime_minutes": "0"}, "greater than or equal to 1"),
        ({"allowed_networks": "", "expires_at": "tomorrow"}, "Enter a valid date/time."),
    ):
        response = client.post(_settings(key), data)
        assert response.status_code == 400, data
        assert message in response.content.decode(), data
    key.refresh_from_db()
    assert (key.allowed_networks, key.expires_at, key.token_lifetime) == ("", None, None)


def test_built_in_keys_have_networks_only_and_a_warning_before_disabling(client_for, alice, acme):
    key = ApiKey.objects.get(tenant=acme, kind=KeyKind.EMPORIX)
    text = client_for(alice).get(_settings(key)).content.decode()
    assert "Allowed networks" in text and "Expires" not in text
    assert "every app using it stops working until you enable it again" in text


def _card(response, key) -> str:
    """The key's card on the list page (up to the end of its <article>)."""
    body = response.content.decode()
    card = body[body.index(f'id="key-{key.public_id}"') :]
    return card[: card.index("</article>")]


def test_disable_and_enable_from_the_page(client_for, alice, acme):
    key, _ = _custom(acme)
    client = client_for(alice)
    kwargs = {"code": "acme", "key_id": key.public_id}
    response = client.post(reverse("apikeys:disable", kwargs=kwargs), {"confirm": "disable"})
    assert response.status_code == 302 and response.url.endswith("#key-notice")
    key.refresh_from_db()
    assert key.disabled_at is not None
    # Said beside the key, as every change made from the list is.
    assert "is disabled: its secrets and access tokens no longer work." in _card(client.get(response.url), key)
    assert "Disabled" in client.get(_settings(key)).content.decode()
    response = client.post(reverse("apikeys:enable", kwargs=kwargs))
    key.refresh_from_db()
    assert key.disabled_at is None and key.tokens_not_before is not None
    assert "access tokens it issued before stay revoked." in _card(client.get(response.url), key)


def test_disabling_asks_first_and_says_the_tokens_stay_revoked(client_for, alice, acme):
    """The settings page links to a confirmation (the page without JavaScript, a dialog with
    it); a POST without the confirmation's field is asked again and changes nothing."""
    key, _ = _custom(acme)
    client = client_for(alice)
    url = reverse("apikeys:disable", kwargs={"code": "acme", "key_id": key.public_id})
    settings_page = client.get(_settings(key)).content.decode()
    assert f'href="{url}" data-dialog="disable-dialog"' in settings_page
    assert 'name="confirm" value="disable"' in settings_page  # the dialog's form
    for response in (client.get(url), client.post(url), client.post(url, {"confirm": "yes"})):
        assert response.status_code == 200
        text = response.content.decode()
        assert f"Disable {key.name}?" in text and 'name="confirm" value="disable"' in text
        assert "the access tokens issued before stay revoked" in text
        assert escape("This is the tenant's") not in text  # the built-in keys' words
    key.refresh_from_db()
    assert key.disabled_at is None


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        (KeyKind.EMPORIX, "This is the tenant's Emporix API key: it holds every scope of every service"),
        (KeyKind.STOREFRONT, "This is the tenant's Storefront API key: every shop front-end that uses it stops"),
    ],
)
def test_disabling_a_built_in_key_is_worded_more_strongly(client_for, alice, acme, kind, words):
    key = ApiKey.objects.get(tenant=acme, kind=kind)
    client = client_for(alice)
    url = reverse("apikeys:disable", kwargs={"code": "acme", "key_id": key.public_id})
    for text in (client.get(url).content.decode(), client.get(_settings(key)).content.decode()):
        assert escape(words) in text and "the access tokens issued before stay revoked" in text
    client.post(url, {"confirm": "disable"})
    key.refresh_from_db()
    assert key.disabled_at is not None
    # A disabled key's confirmation page leads back to its settings (where Enable is).
    assert client.get(url).url == _settings(key)


def test_disable_needs_a_recent_authentication_but_its_confirmation_does_not(client, alice, acme):
    key, _ = _custom(acme)
    client.force_login(alice)
    url = reverse("apikeys:disable", kwargs={"code": "acme", "key_id": key.public_id})
    assert client.get(url).status_code == 200
    response = client.post(url, {"confirm": "disable"})
    assert response.status_code == 302 and response.url.startswith(reverse("account_reauthenticate"))
    key.refresh_from_db()
    assert key.disabled_at is None


def test_enable_needs_a_recent_authentication(client, alice, acme):
    key, _ = _custom(acme)
    ApiKey.objects.filter(pk=key.pk).update(disabled_at=timezone.now())
    client.force_login(alice)
    response = client.post(reverse("apikeys:enable", kwargs={"code": "acme", "key_id": key.public_id}))
    assert response.status_code == 302 and response.url.startswith(reverse("account_reauthenticate"))
    assert urllib.parse.quote(_settings(key), safe="") in response.url
    key.refresh_from_db()
    assert key.disabled_at is not None


def test_an_admin_reports_a_leaked_secret_of_the_tenant(
    client_for, alice, acme, globex, django_capture_on_commit_callbacks
):
    key, secret = _custom(acme)
    client = client_for(alice)
    url = reverse("apikeys:report_leak", kwargs={"code": "acme"})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"secret": secret, "where": "a public gist"})
    assert response.status_code == 302
    assert not key.secrets.filter(expires_at__isnull=True).exclude(created_at__gt=key.created_at).exists()
    entry = ActivityEntry.objects.get(key=key, action=Action.SECRET_LEAKED)
    assert entry.details["url"] == "a public gist" and entry.actor == alice
    assert len(mail.outbox) == 1
    # Another tenant's secret is never matched from acme's page, and the page says nothing about it.
    other = ApiKey.objects.get(tenant=globex, kind=KeyKind.EMPORIX)
    from apikeys.services import secret_plaintext

    other_secret = secret_plaintext(other.secrets.get())
    answer = client.post(url, {"secret": other_secret})
    assert answer.status_code == 200
    text = answer.content.decode()
    assert "not a working secret of Acme Corp" in text and other_secret not in text
    assert other.secrets.get().expires_at is None


def test_create_and_edit_set_the_expiry_within_the_tenants_maximum(client_for, alice, acme):
    from tenants.services import tenant_policy_change

    client = client_for(alice)
    url = reverse("apikeys:create", kwargs={"code": "acme"})
    soon = (timezone.localtime() + timedelta(days=5)).replace(second=0, microsecond=0)
    response = client.post(
        url, {"name": "Short", "scopes": ["tax.tax_read"], "expires_at": soon.strftime("%Y-%m-%dT%H:%M")}
    )
    assert response.status_code == 302
    key = ApiKey.objects.get(name="Short")
    assert key.expires_at == soon

    tenant_policy_change(tenant=acme, key_max_lifetime_days=30)
    far = (timezone.localtime() + timedelta(days=60)).strftime("%Y-%m-%dT%H:%M")
    refused = client.post(url, {"name": "Long", "scopes": ["tax.tax_read"], "expires_at": far})
    assert refused.status_code == 400
    assert "at most 30 days" in refused.content.decode()
    assert not ApiKey.objects.filter(name="Long").exists()
    defaulted = client.post(url, {"name": "Default", "scopes": ["tax.tax_read"]})
    assert defaulted.status_code == 302
    assert ApiKey.objects.get(name="Default").expires_at is not None

    edit = reverse("apikeys:edit", kwargs={"code": "acme", "key_id": key.public_id})
    later = (timezone.localtime() + timedelta(days=20)).replace(second=0, microsecond=0)
    assert (
        client.post(
            edit, {"name": "Short", "scopes": ["tax.tax_read"], "expires_at": later.strftime("%Y-%m-%dT%H:%M")}
        ).status_code
        == 302
    )
    key.refresh_from_db()
    assert key.expires_at == later


def test_a_refused_date_saves_none_of_the_form(client_for, alice, acme):
    key, _ = _custom(acme)
    past = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client_for(alice).post(_settings(key), {"allowed_networks": "203.0.113.0/24", "expires_at": past})
    assert response.status_code == 400
    key.refresh_from_db()
    assert key.allowed_networks == ""


def test_the_leak_report_page_explains_secret_scanning_itself(client_for, alice, acme):
    """It says what a secret-scanning report is and does, rather than sending admins to a file."""
    response = client_for(alice).get(reverse("apikeys:report_leak", kwargs={"code": "acme"}))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Reports from secret-scanning services" in html
    assert "akps_" in html and "Secret reported leaked" in html
    assert "README" not in html and "docs/" not in html
