"""Per-key network allowlists at the token endpoint: IPv4 and IPv6 networks, the trusted proxy
header, real loopback source addresses against a dual-stack server, validation, and refusals
counted per key and hour instead of logged per request."""

import http.client
import json
import socket
import threading
from urllib.parse import urlencode

import pytest
from django.core.exceptions import ValidationError
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

from activity.models import Action, ActivityEntry
from apikeys.models import NetworkRefusal
from apikeys.networks import address_allowed, networks_clean
from apikeys.services import key_networks_set

TOKEN = "/oauth/token"


def _form(key, secret):
    return urlencode({"grant_type": "client_credentials", "client_id": key.client_id, "client_secret": secret})


def _post(client, key, secret, address, **headers):
    return client.post(
        TOKEN, _form(key, secret), content_type="application/x-www-form-urlencoded", REMOTE_ADDR=address, **headers
    )


def test_networks_are_validated_and_normalised():
    assert networks_clean(" 203.0.113.0/24, 2001:db8::/32\n10.1.2.3  203.0.113.0/24 ") == (
        "203.0.113.0/24\n2001:db8::/32\n10.1.2.3/32"
    )
    assert networks_clean("") == ""
    with pytest.raises(ValidationError) as bad:
        networks_clean("203.0.113.5/24 example.com 10.0.0.0/33")
    messages = bad.value.messages
    assert "“203.0.113.5/24” has host bits set; did you mean 203.0.113.0/24?" in messages
    assert any("example.com" in m for m in messages) and any("10.0.0.0/33" in m for m in messages)
    with pytest.raises(ValidationError, match="At most 50"):
        networks_clean(" ".join(f"10.0.{i}.0/24" for i in range(51)))


def test_address_matching():
    allowed = "203.0.113.0/24\n2001:db8::/32"
    assert address_allowed("203.0.113.9", allowed)
    assert address_allowed("::ffff:203.0.113.9", allowed)  # IPv4-mapped, as a dual-stack socket reports
    assert address_allowed("2001:db8::1", allowed)
    assert not address_allowed("198.51.100.1", allowed)
    assert not address_allowed("2001:db9::1", allowed)
    assert not address_allowed("not an address", allowed)
    assert address_allowed("anything", "")


def test_requests_from_elsewhere_get_invalid_client_and_are_counted(client, custom):
    key, secret = custom
    key_networks_set(key=key, allowed_networks="198.51.100.0/24 2001:db8::/32")
    assert _post(client, key, secret, "198.51.100.7").status_code == 200
    assert _post(client, key, secret, "2001:db8::7").status_code == 200
    wrong = _post(client, key, "wrong-" + secret, "203.0.113.1")
    for address in ("203.0.113.1", "203.0.113.2", "::1"):
        refused = _post(client, key, secret, address)
        assert refused.status_code == 401 and refused.json() == wrong.json()
    refusal = NetworkRefusal.objects.get(key=key)
    assert refusal.count == 3 and refusal.first_address == "203.0.113.1" and refusal.last_address == "::1"
    # One activity entry for the hour, not one per request.
    entries = ActivityEntry.objects.filter(key=key, action=Action.KEY_NETWORK_REFUSED)
    assert entries.count() == 1 and entries.get().details["first_address"] == "203.0.113.1"
    assert ActivityEntry.objects.filter(key=key, action=Action.KEY_NETWORKS_CHANGED).count() == 1


def test_the_trusted_proxy_header_gives_the_address(client, custom, settings):
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    settings.TRUSTED_PROXY_COUNT = 1
    key, secret = custom
    key_networks_set(key=key, allowed_networks="198.51.100.0/24")
    # The proxy (REMOTE_ADDR 127.0.0.1) saw the client at 198.51.100.7; the left part is forged.
    ok = _post(client, key, secret, "127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.1, 198.51.100.7")
    assert ok.status_code == 200
    forged = _post(client, key, secret, "127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.1")
    assert forged.status_code == 401


def test_an_allowlist_on_the_storefront_key_limits_anonymous_logins(client, storefront):
    key, _ = storefront
    key_networks_set(key=key, allowed_networks="198.51.100.0/24")
    login = "/customerlogin/auth/anonymous/login"
    query = {"tenant": "acme", "client_id": key.client_id}
    assert client.get(login, query, REMOTE_ADDR="198.51.100.1").status_code == 200
    assert client.get(login, query, REMOTE_ADDR="203.0.113.1").status_code == 401


@pytest.fixture
def dual_stack_server(transactional_db, catalogue):
    """The portal served on [::] (IPv6 and, mapped, IPv4) in a thread, as a real socket server."""
    if not socket.has_ipv6:
        pytest.skip("no IPv6")

    class Server(ThreadedWSGIServer):
        address_family = socket.AF_INET6

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = Server(("::", 0), Quiet, allow_reuse_address=True)
    server.set_app(WSGIHandler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _post_from(port, source, body):
    family_host = "::1" if ":" in source else "127.0.0.1"
    connection = http.client.HTTPConnection(family_host, port, timeout=10, source_address=(source, 0))
    connection.request("POST", TOKEN, body, {"Content-Type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    status, payload = response.status, json.loads(response.read())
    connection.close()
    return status, payload


def test_real_loopback_sources_are_distinct_clients(dual_stack_server, acme_provisioned, custom):
    key, secret = custom
    key_networks_set(key=key, allowed_networks="127.0.0.2/32 ::1/128")
    body = _form(key, secret)
    assert _post_from(dual_stack_server, "127.0.0.2", body)[0] == 200
    assert _post_from(dual_stack_server, "::1", body)[0] == 200
    status, payload = _post_from(dual_stack_server, "127.0.0.3", body)
    assert status == 401 and payload["error"] == "invalid_client"
    assert NetworkRefusal.objects.get(key=key).last_address == "::ffff:127.0.0.3"


def test_a_custom_key_can_have_its_own_token_lifetime(client, custom, emporix, settings):
    from datetime import timedelta
    from unittest import mock

    from django.utils import timezone

    from apikeys.services import key_token_lifetime_set

    key, secret = custom
    key_token_lifetime_set(key=key, seconds=300)
    body = _post(client, key, secret, "127.0.0.1").json()
    assert body["expires_in"] == 300
    introspected = client.post(
        "/oauth/introspect",
        urlencode({"token": body["access_token"], "client_id": emporix[0].client_id, "client_secret": emporix[1]}),
        content_type="application/x-www-form-urlencoded",
    ).json()
    assert introspected["exp"] - introspected["iat"] == 300
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(seconds=301)):
        again = client.post(
            "/oauth/introspect",
            urlencode({"token": body["access_token"], "client_id": emporix[0].client_id, "client_secret": emporix[1]}),
            content_type="application/x-www-form-urlencoded",
        ).json()
    assert again == {"active": False}
    # The deployment maximum bounds it, and nonsense is refused.
    settings.ACCESS_TOKEN_LIFETIME_MAX = 120
    assert _post(client, key, secret, "127.0.0.1").json()["expires_in"] == 120
    with pytest.raises(ValueError, match="between 60 and 120"):
        key_token_lifetime_set(key=key, seconds=30)
    with pytest.raises(ValueError, match="Only custom keys"):
        key_token_lifetime_set(key=emporix[0], seconds=300)
