"""The two-phase encryption-key rollout (docs/configuration.md, "Encryption keys and rotation") across two
running instances that share one database, as during a rolling restart (issue 8, item 7).

Two gunicorn servers, A and B, serve one migrated database and are restarted with other
PORTAL_ENCRYPTION_KEYS between the steps (gunicorn reads the environment when it starts). One
logged-in session renews and reveals the Emporix API key's secret through either of them, as a
user behind a load balancer would (sessions live in the database); the database says which key
each renew wrote under:

0. the broken window the two phases avoid: A knows only `old`, B was restarted with `new,old`.
   A secret renewed through B is written under `new`; A answers 503 `secret_unreadable`, not 500;
1. phase 1, both `old,new` (new decrypt-only): renew through either, reveal through the other;
2. phase 2 half done, A `new,old` and B still `old,new`: what A writes under `new`, B shows, and
   what B still writes under `old`, A shows;
3. `reencrypt_secrets`, then both `new` only: every secret still shows, and `check --database
   default` passes with `new` and fails (apikeys.E003) for an instance given an unrelated key."""

import subprocess
import uuid
from contextlib import ExitStack, closing
from pathlib import Path

import pytest
import requests

from kernel.crypto import generate_encryption_key_entry

from .conftest import PASSWORD, csrf_post, login
from .serving import free_port, gunicorn, manage, served_database, token_request

pytestmark = pytest.mark.outside  # two gunicorn servers

OLD, NEW, UNRELATED = (generate_encryption_key_entry(key_id) for key_id in ("old", "new", "unrelated"))
ADMIN = "edge@example.com"  # admin of the tenant `edge` that served_database creates


class Instance:
    """One portal instance on its own loopback port, restarted with other keys as a rolling
    restart restarts it."""

    def __init__(self, name: str, env: dict[str, str], tmp_dir: Path) -> None:
        self.name, self.env, self.log = name, env, tmp_dir / f"{name}.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._running: ExitStack | None = None

    def start(self, keys: str) -> None:
        self.stop()
        with ExitStack() as stack:
            stack.enter_context(gunicorn({**self.env, "PORTAL_ENCRYPTION_KEYS": keys}, self.log, port=self.port))
            self._running = stack.pop_all()

    def stop(self) -> None:
        running, self._running = self._running, None
        if running is not None:
            running.close()


@pytest.fixture
def site(tmp_path):
    """(environment, Emporix API key's Client ID and first secret, instance A, instance B) on a
    database whose secrets were written under `old`; both instances stopped at the end."""
    with served_database(
        tmp_path,
        "rollout",
        password=PASSWORD,
        PORTAL_ENCRYPTION_KEYS=OLD,
        SECRET_KEY="rollout-test-secret-key",
        STATIC_MANIFEST="off",
        SECURE_COOKIES="off",
        CACHE_URL="locmemcache://rollout",
        WEB_CONCURRENCY="1",
        WEB_THREADS="8",
    ) as (env, client_id, secret):
        a, b = Instance("a", env, tmp_path), Instance("b", env, tmp_path)
        assert a.port != b.port
        with ExitStack() as stack:
            stack.callback(a.stop)
            stack.callback(b.stop)
            yield env, client_id, secret, a, b


def stored(env: dict[str, str], query: str, *params: str) -> list[tuple]:
    """Rows from the instances' database, read directly (PostgreSQL or the SQLite file)."""
    url = env["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        import sqlite3

        with closing(sqlite3.connect(url.removeprefix("sqlite:///"), timeout=10)) as db:
            return db.execute(query.replace("%s", "?"), params).fetchall()
    import psycopg

    with psycopg.connect(url, connect_timeout=5) as db:
        return db.execute(query, params).fetchall()


def written_under(env: dict[str, str], client_id: str) -> str:
    """The encryption key id of the key's current secret."""
    [(key_id,)] = stored(
        env,
        "SELECT s.encryption_key_id FROM apikeys_apisecret s JOIN apikeys_apikey k ON k.id = s.key_id "
        "WHERE k.client_id = %s AND s.expires_at IS NULL",
        client_id,
    )
    return key_id


def reveal(user: requests.Session, instance: Instance, public_id: str) -> requests.Response:
    return user.post(
        f"{instance.url}/tenants/edge/api-keys/{public_id}/secret/",
        {"purpose": "reveal"},
        headers={"Accept": "application/json", "X-CSRFToken": user.cookies["csrftoken"]},
        timeout=10,
    )


def revealed(user: requests.Session, instance: Instance, public_id: str) -> str:
    response = reveal(user, instance, public_id)
    assert response.status_code == 200, (instance.name, response.status_code, response.text[:300])
    return response.json()["secret"]


def renew(user: requests.Session, instance: Instance, public_id: str) -> None:
    response = csrf_post(
        user, f"{instance.url}/tenants/edge/api-keys/{public_id}/renew/", {"grace": "now", "confirm": "now"}
    )
    assert response.status_code == 302, (instance.name, response.status_code, response.text[:300])


def test_the_two_phase_key_rollout_has_no_broken_window_across_instances(site):
    env, client_id, first_secret, a, b = site
    keys = {
        cid: str(uuid.UUID(str(pid))) for pid, cid in stored(env, "SELECT public_id, client_id FROM apikeys_apikey")
    }
    emporix = keys[client_id]

    # 0. The broken window: B restarted with the new key first, A not yet.
    a.start(OLD)
    b.start(f"{NEW},{OLD}")
    user = login(a.url, ADMIN)  # a fresh login: recent enough for reveal and renew
    assert revealed(user, a, emporix) == revealed(user, b, emporix) == first_secret
    renew(user, b, emporix)
    assert written_under(env, client_id) == "new"
    secret = revealed(user, b, emporix)
    unreadable = reveal(user, a, emporix)
    assert unreadable.status_code == 503, unreadable.text[:300]
    assert unreadable.json()["error"] == "secret_unreadable"
    assert "no-store" in unreadable.headers["Cache-Control"]
    # It still works for its clients, whichever instance they reach (only its digest is checked).
    assert token_request(a.url, client_id, secret).status == 200
    assert token_request(b.url, client_id, secret).status == 200

    # 1. Phase 1: every instance learns the new key as decrypt-only.
    a.start(f"{OLD},{NEW}")
    b.start(f"{OLD},{NEW}")
    assert revealed(user, a, emporix) == secret  # what B wrote under `new` in the window
    for writer, reader in ((a, b), (b, a)):
        renew(user, writer, emporix)
        assert written_under(env, client_id) == "old"
        secret = revealed(user, writer, emporix)
        assert revealed(user, reader, emporix) == secret, (writer.name, reader.name)

    # 2. Phase 2, half done: A restarted with the new key first, B not yet.
    a.start(f"{NEW},{OLD}")
    for writer, reader, key_id in ((a, b, "new"), (b, a, "old"), (a, b, "new")):
        renew(user, writer, emporix)
        assert written_under(env, client_id) == key_id, writer.name
        secret = revealed(user, writer, emporix)
        assert revealed(user, reader, emporix) == secret, (writer.name, reader.name)

    # 3. Phase 2 done, the stored secrets re-encrypted, then the old key removed everywhere.
    b.start(f"{NEW},{OLD}")
    report = manage({**env, "PORTAL_ENCRYPTION_KEYS": f"{NEW},{OLD}"}, "reencrypt_secrets")
    assert "0 failed, 0 not under it" in report, report
    assert stored(env, "SELECT DISTINCT encryption_key_id FROM apikeys_apisecret") == [("new",)]
    a.start(NEW)
    b.start(NEW)
    for public_id in keys.values():  # the Storefront API key's secret was written under `old`
        assert revealed(user, a, public_id) == revealed(user, b, public_id)
    assert revealed(user, a, emporix) == secret
    assert token_request(b.url, client_id, secret).status == 200

    manage({**env, "PORTAL_ENCRYPTION_KEYS": NEW}, "check", "--database", "default")
    with pytest.raises(subprocess.CalledProcessError) as failed:
        manage({**env, "PORTAL_ENCRYPTION_KEYS": UNRELATED}, "check", "--database", "default")
    assert "apikeys.E003" in failed.value.stderr, failed.value.stderr
    for instance in (a, b):  # no step above was a 500
        assert "Traceback" not in instance.log.read_text(), instance.name
