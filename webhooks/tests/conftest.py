"""A real HTTP receiver for webhook deliveries: http.server in a thread on 127.0.0.1, told
how to answer each POST, recording what arrived and checking each signature as it arrives with
an independent implementation of Standard Webhooks (the `standardwebhooks` package)."""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import EmptyWebhookSecretError, WebhookVerificationError

from conftest import wait_until
from webhooks.services import endpoint_create, endpoint_secret

HOLD = "hold"  # answer only when Receiver.release() is called


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool
    problem: str = ""

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def payload(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str = ""
    secret: str = ""  # the endpoint's signing secret, to verify with
    plan: list = field(default_factory=list)  # per POST: a status, ("sleep", seconds) or HOLD; then 200
    received: list[Received] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)

    def answer(self, *steps) -> None:
        self.plan.extend(steps)

    def release(self) -> None:
        self.released.set()

    def wait_for(self, count: int, seconds: float = 20) -> None:
        wait_until(
            lambda: len(self.received) >= count, seconds, what=lambda: f"{len(self.received)} of {count} deliveries"
        )

    def ids(self) -> list[str]:
        return [r.id for r in self.received]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                Webhook(receiver.secret).verify(body, headers)
                record = Received(headers, body, verified=True)
            except (WebhookVerificationError, EmptyWebhookSecretError, ValueError) as exc:
                record = Received(headers, body, verified=False, problem=str(exc))
            receiver.received.append(record)
            step = receiver.plan.pop(0) if receiver.plan else 200
            if step == HOLD:
                receiver.released.wait(30)
                step = 200
            elif isinstance(step, tuple):
                time.sleep(step[1])
                step = 200
            try:
                self.send_response(step)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:
                pass  # the sender is gone (timed out, or killed)

        def log_message(self, *args) -> None:
            pass

    return Handler


@pytest.fixture
def receiver():
    state = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    state.release()
    server.shutdown()
    server.server_close()


@pytest.fixture
def endpoint(acme, receiver, settings):
    """acme's endpoint at the receiver, subscribed to every key event; the receiver knows its secret."""
    settings.WEBHOOKS_ALLOW_HTTP_LOOPBACK = True
    from webhooks.events import BY_CODE

    created, secret = endpoint_create(tenant=acme, url=receiver.url, event_types=list(BY_CODE))
    receiver.secret = secret
    assert endpoint_secret(created) == secret
    return created
