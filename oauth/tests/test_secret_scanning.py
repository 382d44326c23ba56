"""Leaked-secret reports: a signed report from a secret-scanning service stops a matching
secret at once (renew now, its tokens too), mails the tenant's admins with where it was found,
and records it; false positives and malformed reports change nothing and say nothing; a bad
signature is refused before any lookup."""

import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core import mail

from activity.models import Action, ActivityEntry
from apikeys.models import ApiSecret
from apikeys.services import key_renew
from kernel.crypto import generate_secret
from oauth import leaks

URL = "/oauth/secret-scanning/verify"


@pytest.fixture
def scanner(tmp_path, settings):
    """A secret-scanning service's key pair, its public key configured as GitHub publishes them."""
    private = ec.generate_private_key(ec.SECP256R1())
    pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"public_keys": [{"key_identifier": "k1", "key": pem, "is_current": True}]}))
    settings.SECRET_SCANNING_KEYS_FILE = str(path)
    leaks.public_keys.cache_clear()
    yield private
    leaks.public_keys.cache_clear()


def _report(client, private, candidates, *, key_id="k1", tamper=False):
    body = json.dumps(candidates).encode()
    signature = base64.b64encode(private.sign(body, ec.ECDSA(hashes.SHA256()))).decode()
    if tamper:
        body = body.replace(b"github", b"gitlab")
    return client.post(
        URL,
        body,
        content_type="application/json",
        HTTP_GITHUB_PUBLIC_KEY_IDENTIFIER=key_id,
        HTTP_GITHUB_PUBLIC_KEY_SIGNATURE=signature,
    )


def _candidate(token):
    return {
        "token": token,
        "type": "api_key_portal_secret",
        "url": "https://github.com/x/y/blob/main/.env",
        "source": "content",
    }


def test_a_true_positive_stops_the_secret_and_its_tokens_and_mails_the_admins(
    client, scanner, custom, emporix, issue, introspect, post_token, django_capture_on_commit_callbacks
):
    key, secret = custom
    token = issue(key, secret)
    with django_capture_on_commit_callbacks(execute=True):
        response = _report(client, scanner, [_candidate(secret)])
    assert response.status_code == 200
    assert response.json() == [
        {
            "token_hash": hashlib.sha256(secret.encode()).hexdigest(),
            "token_type": "api_key_portal_secret",
            "label": "true_positive",
        }
    ]
    # The leaked secret and its token stopped; the key has a new current secret.
    assert introspect(*emporix, token) == {"active": False}
    refused = post_token({"grant_type": "client_credentials", "client_id": key.client_id, "client_secret": secret})
    assert refused.status_code == 401
    assert ApiSecret.objects.filter(key=key, expires_at__isnull=True).count() == 1
    entry = ActivityEntry.objects.get(key=key, action=Action.SECRET_LEAKED)
    assert entry.details["url"] == "https://github.com/x/y/blob/main/.env" and entry.details["stopped"] is True
    [message] = mail.outbox
    assert message.to == ["alice@example.com"]  # acme's admin
    assert "https://github.com/x/y/blob/main/.env" in message.body
    assert [kind for _, kind in message.alternatives] == ["text/html"]
    assert secret not in message.body and secret not in message.alternatives[0][0]


def test_false_positives_and_malformed_candidates_change_nothing(client, scanner, custom, django_assert_num_queries):
    _key, secret = custom
    before = list(ApiSecret.objects.values_list("pk", "expires_at"))
    candidates = [
        _candidate(generate_secret()),  # well-formed, checksum right, no such secret
        _candidate(secret[:-1] + ("A" if secret[-1] != "A" else "B")),  # checksum wrong
        _candidate("akps_short"),
        {"token": 12, "type": None},
        {},
    ]
    with django_assert_num_queries(1):  # only the well-formed candidate is looked up
        response = _report(client, scanner, candidates)
    assert response.status_code == 200
    assert [answer["label"] for answer in response.json()] == ["false_positive"] * 5
    assert list(ApiSecret.objects.values_list("pk", "expires_at")) == before
    assert not ActivityEntry.objects.filter(action=Action.SECRET_LEAKED).exists()
    assert not mail.outbox


@pytest.mark.parametrize("how", ["tampered body", "unknown key id", "no signature"])
def test_a_bad_signature_is_refused_before_any_lookup(client, scanner, custom, how, django_assert_num_queries):
    _, secret = custom
    with django_assert_num_queries(0):
        if how == "no signature":
            response = client.post(URL, json.dumps([_candidate(secret)]), content_type="application/json")
        else:
            response = _report(
                client,
                scanner,
                [_candidate(secret)],
                key_id="k2" if how == "unknown key id" else "k1",
                tamper=how == "tampered body",
            )
    assert response.status_code == 401 and response.json()["error"] == "invalid_signature"
    assert ApiSecret.objects.filter(expires_at__isnull=False).count() == 0


def test_a_leaked_old_secret_is_retired_and_the_current_one_kept(
    client, scanner, custom, post_token, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    key, old = custom
    _, current, current_plain = key_renew(key=key, grace=timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert _report(client, scanner, [_candidate(old)]).json()[0]["label"] == "true_positive"
    current.refresh_from_db()
    assert current.expires_at is None  # the current secret goes on working
    ok = post_token({"grant_type": "client_credentials", "client_id": key.client_id, "client_secret": current_plain})
    assert ok.status_code == 200
    refused = post_token({"grant_type": "client_credentials", "client_id": key.client_id, "client_secret": old})
    assert refused.status_code == 401


def test_bad_bodies_get_clear_errors(client, scanner):
    private = scanner
    for body in (b"not json", b'{"token": "x"}', b"[1, 2]"):
        signature = base64.b64encode(private.sign(body, ec.ECDSA(hashes.SHA256()))).decode()
        response = client.post(
            URL,
            body,
            content_type="application/json",
            HTTP_GITHUB_PUBLIC_KEY_IDENTIFIER="k1",
            HTTP_GITHUB_PUBLIC_KEY_SIGNATURE=signature,
        )
        assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_without_configured_keys_the_endpoint_is_off(client, settings):
    settings.SECRET_SCANNING_KEYS_FILE = ""
    leaks.public_keys.cache_clear()
    assert client.post(URL, b"[]", content_type="application/json").status_code == 404
