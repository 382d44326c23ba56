from unittest import mock

from apikeys.services import key_delete, key_renew, secret_retire
from kernel import crypto

GRANT = {"grant_type": "client_credentials"}


def comparable(response) -> tuple:
    # The date and the request id differ from one response to the next, whatever the client.
    headers = {name: value for name, value in response.headers.items() if name.lower() not in ("date", "x-request-id")}
    return response.status_code, headers, response.content


def test_unknown_id_and_wrong_secret_get_identical_responses(post_token, emporix):
    key, secret = emporix
    # Same length as the real secret, last character changed.
    wrong_secret = secret[:-1] + ("y" if secret.endswith("x") else "x")
    wrong = post_token({**GRANT, "client_id": key.client_id, "client_secret": wrong_secret})
    unknown = post_token({**GRANT, "client_id": "Z" * 32, "client_secret": secret})
    assert wrong.status_code == 401
    assert comparable(wrong) == comparable(unknown)
    assert wrong.json() == {"error": "invalid_client", "error_description": "Client authentication failed."}
    assert wrong["WWW-Authenticate"] == 'Basic realm="API Key Portal"'


def test_retired_expired_and_deleted_get_the_same_response(post_token, emporix, custom):
    key, secret = emporix
    reference = comparable(post_token({**GRANT, "client_id": "Z" * 32, "client_secret": secret}))

    key_renew(key=key, grace=None)  # the old secret expired now
    assert comparable(post_token({**GRANT, "client_id": key.client_id, "client_secret": secret})) == reference

    key2, old2 = custom
    _, _, _ = key_renew(key=key2, grace=__import__("datetime").timedelta(hours=1))
    secret_retire(secret=key2.secrets.exclude(expires_at__isnull=True).get())
    assert comparable(post_token({**GRANT, "client_id": key2.client_id, "client_secret": old2})) == reference

    key_delete(key=key2)
    assert comparable(post_token({**GRANT, "client_id": key2.client_id, "client_secret": old2})) == reference


def test_an_unknown_id_still_pays_for_a_digest_comparison(post_token, db):
    with mock.patch.object(crypto.hmac, "compare_digest", wraps=crypto.hmac.compare_digest) as compare:
        post_token({**GRANT, "client_id": "Z" * 32, "client_secret": "akps_nothing"})
    assert compare.call_count == 1
    assert compare.call_args.args[1] == crypto.DUMMY_DIGEST
