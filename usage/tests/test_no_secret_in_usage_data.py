"""No secret, token or full client address reaches the usage data (Redis's hashes, the roll-ups,
the last uses) or a log: only ids, operation and outcome names, and networks (IPv4 /24, IPv6 /48).
The session's log-leak recorder (conftest) sees every record; this test also looks at it."""

import logging
from urllib.parse import urlencode

import pytest

from conftest import LEAK_PATTERN, _leak_recorder
from kernel import usage
from usage.flush import Flusher
from usage.models import DayUsage, FlushedBatch, HourUsage, LastUse, MinuteUsage

pytestmark = [pytest.mark.django_db, pytest.mark.outside]  # redis-server
FORM = "application/x-www-form-urlencoded"
ADDRESSES = ("198.51.100.77", "2001:db8:1:2:3::4")


def _everything_in(redis_server) -> str:
    client = redis_server.client
    parts = []
    for name in client.keys("*"):
        parts.append(name.decode())
        kind = client.type(name).decode()
        if kind == "hash":
            parts += [f"{k.decode()}={v.decode()}" for k, v in client.hgetall(name).items()]
        elif kind == "set":
            parts += [member.decode() for member in client.smembers(name)]
    return "\n".join(parts)


def _everything_in_the_rollups() -> str:
    tables = (MinuteUsage, HourUsage, DayUsage, LastUse, FlushedBatch)
    return "\n".join(str(row) for table in tables for row in table.objects.values_list())


def test_usage_data_and_logs_hold_no_secret_token_or_full_address(client, acme_secrets, on_redis, caplog):
    caplog.set_level(logging.DEBUG)
    key, secret = acme_secrets["emporix"]
    storefront, _ = acme_secrets["storefront"]
    leaks_before = len(_leak_recorder.leaks)
    tokens = []
    for address in ADDRESSES:
        for presented in (secret, "akps_" + "Q" * 40):
            form = {"grant_type": "client_credentials", "client_id": key.client_id, "client_secret": presented}
            answer = client.post("/oauth/token", urlencode(form), content_type=FORM, REMOTE_ADDR=address)
            if answer.status_code == 200:
                tokens.append(answer.json()["access_token"])
        login = client.get(
            "/customerlogin/auth/anonymous/login",
            {"tenant": "acme", "client_id": storefront.client_id},
            REMOTE_ADDR=address,
        )
        tokens += [login.json()["access_token"], login.json()["refresh_token"]]
        for token in (tokens[0], "akpt_" + "Z" * 40):
            client.get(
                "/gateway/nginx",
                HTTP_X_ORIGINAL_METHOD="GET",
                HTTP_X_ORIGINAL_URI="/customer/acme/customers",
                HTTP_AUTHORIZATION=f"Bearer {token}",
                REMOTE_ADDR=address,
            )
    assert usage.push()
    held = _everything_in(on_redis)
    Flusher().flush()
    stored = _everything_in_the_rollups()
    for text in (held, stored, caplog.text):
        assert not LEAK_PATTERN.search(text)
        assert secret not in text and not any(token in text for token in tokens)
        assert not any(address in text for address in ADDRESSES)
    # What is kept of where a key was used: the networks only.
    assert "198.51.100.0/24" in held or "2001:db8:1::/48" in held
    assert LastUse.objects.get(key=key).network == "2001:db8:1::/48"
    assert len(_leak_recorder.leaks) == leaks_before
