"""The fixed cast: alice (admin of acme), dave (developer in acme), bob (viewer in acme) and
charlie (admin of globex, another tenant). Every tenant is made through `tenant_create`, so
each has its Emporix API and Storefront API keys; `acme_secrets` holds their plaintexts."""

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import TypeVar

import pytest
from django.core.cache import cache

from apikeys.auth import kept_clear, scope_cache_clear
from kernel import canary, ratelimit, usage
from oauth import signing
from tenants.models import Membership, Role
from tenants.services import tenant_create

PASSWORD = "correct-horse-battery-staple"
T = TypeVar("T")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The cast's users are created per test; PBKDF2 would dominate the suite's run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def no_connection_closing():
    """For a test that calls a WSGI application itself: as Django's test client does, the
    test's transaction must survive the request signals, which would close the connection."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _clear_cache():
    # Django's cache and the in-process fallback (rate limits), and the built-in keys' scope
    # lists held in process memory: tests change the catalogue and roll back, which sends no signal.
    cache.clear()
    ratelimit.forget()
    scope_cache_clear()
    canary._ensured.clear()  # which encryption keys this process has seen with a canary
    signing.cache_clear()  # the JWT signing key and published keys held in process memory
    usage.forget()  # usage counted in process memory and not handed on
    kept_clear()  # keys kept for the token endpoint (ids come again after a flush)
    yield
    cache.clear()
    ratelimit.forget()
    scope_cache_clear()
    canary._ensured.clear()
    signing.cache_clear()
    usage.forget()
    kept_clear()


def counted_in_memory(key_id: int, outcome: str) -> dict[str, int]:
    """This process's usage counts of the key with `outcome` so far, by operation (taken: a
    second call sees only what was counted since)."""
    counts, _ = usage.drain()
    found: dict[str, int] = {}
    for counted, calls in counts.items():
        if counted.key_id == key_id and counted.outcome == outcome:
            found[counted.operation] = found.get(counted.operation, 0) + calls
    return found


def all_at_once(count: int, work: Callable[[], T]) -> list[T]:
    """Run work() in `count` threads released together, each with its own database connection
    (closed after); their results. An error in any thread fails the caller."""
    from django.db import connections

    start = threading.Barrier(count, timeout=30)
    results, errors = [], []

    def one():
        try:
            start.wait()
            results.append(work())
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors and len(results) == count, errors
    return results


# The real monotonic clock and sleep, bound here: tests that move time.monotonic (the gateway's
# clock fixture) must not stop the deadline of a wait.
_monotonic, _sleep = time.monotonic, time.sleep


def wait_until(
    condition: Callable[[], T],
    timeout: float = 10,
    *,
    what: str | Callable[[], str] = "the condition",
    ignoring: tuple[type[BaseException], ...] = (),
    interval: float = 0.02,
) -> T:
    """Poll `condition` until it returns something truthy, and return that; fail the test if
    `timeout` seconds pass first. For an event the test cannot be told of directly (another
    thread's or process's work, a line in a log): the test waits as long as the event takes,
    and the deadline only bounds a failure. Exceptions of the `ignoring` classes count as
    "not yet" (a server still starting refuses connections); `what` names the event in the
    failure (a callable is asked only then, e.g. for a log's tail)."""
    deadline = _monotonic() + timeout
    while True:
        try:
            result = condition()
        except ignoring:
            result = None
        if result:
            return result
        if _monotonic() >= deadline:
            raise AssertionError(f"{what() if callable(what) else what}: not within {timeout} s")
        _sleep(interval)


class MovedClock:
    """A monotonic clock that runs with the real one and is moved forward by hand, for code
    that reads its intervals from a clock it lets tests replace (kernel.ratelimit.monotonic)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return _monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (when asked)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


SENTINEL = "Sentinel mail"


class SmtpInbox:
    """The messages a real SMTP server (aiosmtpd) received, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._sentinels = 0

    def flushed(self, timeout: float = 10) -> list[EmailMessage]:
        """The messages that arrived before a sentinel mail, sent now through the same backend
        to the same server, arrived (sentinels left out). A mail the code under test sent
        before this call arrives ahead of the sentinel, so a test proves that nothing was sent
        without waiting out a deadline."""
        from django.core.mail import send_mail

        self._sentinels += 1
        subject = f"{SENTINEL} {self._sentinels}"
        send_mail(subject, "Everything sent before this mail has arrived.", None, ["sentinel@example.com"])
        wait_until(lambda: any(m["Subject"] == subject for m in self.messages), timeout, what=f"{subject!r} arriving")
        index = next(i for i, m in enumerate(self.messages) if m["Subject"] == subject)
        return [m for m in self.messages[:index] if not str(m["Subject"]).startswith(SENTINEL)]

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd's handler hook
        message = message_from_bytes(envelope.content, policy=policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on a free loopback port, and the portal's mail sent to it through
    Django's SMTP backend; yields its SmtpInbox."""
    from aiosmtpd.controller import Controller

    inbox = SmtpInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = controller.hostname, controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield inbox
    controller.stop()


ROOT = Path(__file__).resolve().parent


def run_manage(args: list[str], env: dict[str, str], timeout: int = 60) -> subprocess.CompletedProcess:
    """`manage.py ARGS` in a fresh process with `env` in its environment, over PATH, HOME and
    what the settings require outside DEBUG (the tests' own secrets, from pytest.ini, and mail
    to files), so that it needs no .env. A local .env still fills what neither sets: tests set
    what they rely on (an empty value hides a required one, or one set there)."""
    base = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "SECRET_KEY": os.environ["SECRET_KEY"],
        "PORTAL_ENCRYPTION_KEYS": os.environ["PORTAL_ENCRYPTION_KEYS"],
        "EMAIL_URL": "filemail://",
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def make_user(django_user_model, email: str):
    return django_user_model.objects.create_user(email=email, password=PASSWORD)


@pytest.fixture
def alice(django_user_model):
    return make_user(django_user_model, "alice@example.com")


@pytest.fixture
def bob(django_user_model):
    return make_user(django_user_model, "bob@example.com")


@pytest.fixture
def dave(django_user_model):
    return make_user(django_user_model, "dave@example.com")


@pytest.fixture
def charlie(django_user_model):
    return make_user(django_user_model, "charlie@example.com")


@pytest.fixture
def acme_provisioned(alice, bob, dave):
    tenant, keys = tenant_create(code="acme", name="Acme Corp", creator=alice)
    Membership.objects.create(user=bob, tenant=tenant, role=Role.VIEWER)
    Membership.objects.create(user=dave, tenant=tenant, role=Role.DEVELOPER)
    return tenant, keys


@pytest.fixture
def acme(acme_provisioned):
    return acme_provisioned[0]


@pytest.fixture
def acme_secrets(acme_provisioned):
    """{kind: (key, plaintext secret)} for acme's built-in keys."""
    return {key.kind: (key, secret) for key, secret in acme_provisioned[1]}


@pytest.fixture
def globex(charlie):
    tenant, _ = tenant_create(code="globex", name="Globex", creator=charlie)
    return tenant


@pytest.fixture
def client_for(client, reauthenticated):
    """Log a cast member in as a real login would: client_for(alice). The session counts as
    recently authenticated, so that the actions behind accounts.reauth (secrets, key and member
    changes) run; the tests of that requirement use client.force_login alone
    (portal/tests/test_reauthentication.py)."""

    def login(user):
        client.force_login(user)
        return reauthenticated(client)

    return login


@pytest.fixture
def reauthenticated():
    """reauthenticated(client): the client's logged-in cast member re-authenticates with the
    cast's password, so views under accounts.reauth.recent_auth_required run for the next
    ACCOUNT_REAUTHENTICATION_TIMEOUT seconds (force_login alone records no authentication)."""

    def reauthenticate(client, password: str = PASSWORD):
        response = client.post("/accounts/reauthenticate/", {"password": password})
        assert response.status_code == 302, "re-authentication failed"
        return client

    return reauthenticate


@pytest.fixture
def catalogue(db):
    """The scope catalogue. Migrations load it, but transactional tests (live server,
    concurrency) empty every table afterwards, so they ask for it through this fixture."""
    from django.db import transaction

    from scopes.catalogue import load_catalogue
    from scopes.models import Scope, Service

    if not Scope.objects.exists():
        with transaction.atomic():
            load_catalogue(Service, Scope)


# --- Browser tests ------------------------------------------------------------------------
# Playwright drives Debian's Chromium (its own browser download is not reachable here).

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def site(live_server, catalogue, settings):
    """The live server with the catalogue in its (committed) database, and its URL as the
    portal's public one (PORTAL_URL: the token service's issuer, links in mails)."""
    settings.PORTAL_URL = live_server.url
    return live_server


def browser_login(page, site, user, password: str = PASSWORD):
    """Log `user` in through the login form on `page`; returns the page."""
    page.goto(f"{site.url}/accounts/login/")
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


@pytest.fixture
def page_for(browser, site):
    """page_for(user, width=1280, javascript=True, bypass_csp=False) -> a Playwright page,
    logged in through the login form, with clipboard permission for the live server's origin.
    `bypass_csp` lets a test inject axe (the strict CSP refuses it)."""
    contexts = []

    def open_page(
        user,
        password: str = PASSWORD,
        *,
        width: int = 1280,
        height: int | None = None,
        javascript: bool = True,
        bypass_csp: bool = False,
    ):
        context = browser.new_context(
            viewport={"width": width, "height": height or (900 if width > 600 else 844)},
            bypass_csp=bypass_csp,
            java_script_enabled=javascript,
        )
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return browser_login(context.new_page(), site, user, password)

    yield open_page
    for context in contexts:
        context.close()


# --- No secrets or tokens in logs (oauth) ---------------------------------------------------
# A handler on the root logger records every message logged during the whole run; at the end
# the run fails if one of them holds something shaped like a secret, an access token or a
# refresh token, an invitation link's token, or a webhook signing secret.

import logging  # noqa: E402
import re  # noqa: E402

LEAK_PATTERN = re.compile(r"akps_[0-9A-Za-z]{10}|akpt_|akpr_|akpi_|whsec_")


class LeakRecorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.leaks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:
            text = f"{record.msg!r} {record.args!r}"
        if LEAK_PATTERN.search(text):
            self.leaks.append(text)


_leak_recorder = LeakRecorder()


def pytest_sessionstart(session):
    logging.getLogger().addHandler(_leak_recorder)


def pytest_sessionfinish(session, exitstatus):
    logging.getLogger().removeHandler(_leak_recorder)
    if _leak_recorder.leaks:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter:
            reporter.ensure_newline()
        write = reporter.write_line if reporter else print
        write(f"{len(_leak_recorder.leaks)} log record(s) hold a secret or token, e.g.:")
        write(_leak_recorder.leaks[0][:500])
        session.exitstatus = 1


def give_totp(user) -> str:
    """Give `user` an authenticator app through allauth's own model, as its set-up does; the
    app's secret (pyotp.TOTP(secret).now() is a valid code)."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret
