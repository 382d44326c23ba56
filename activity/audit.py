"""Who is acting, and from where: the part of a request that services need in order to record
activity. Views build it with `Audit.of(request)`; commands and tests build it directly, so
that no service takes an HttpRequest."""

from dataclasses import dataclass
from typing import Protocol

from django.http import HttpRequest

from accounts.models import User
from kernel.net import client_ip


class KeyLike(Protocol):
    """What the activity log needs of a key (the keys app's ApiKey): it keeps the name and
    Client ID beside the reference, so an entry still reads right after the key is gone."""

    pk: int
    name: str
    client_id: str


@dataclass(frozen=True)
class Audit:
    actor: User | None = None  # None: the system or an operator's command
    address: str = ""  # the client address, as client_ip() sees it
    actor_key: KeyLike | None = None  # the key whose token called the management API

    @property
    def actor_label(self) -> str:
        """Who acted, as the activity log names them: a user's e-mail or the API key."""
        if self.actor is not None:
            return self.actor.email
        if self.actor_key is not None:
            return f"API key {self.actor_key.name} ({self.actor_key.client_id})"
        return ""

    @classmethod
    def of(cls, request: HttpRequest) -> "Audit":
        user = request.user if request.user.is_authenticated else None
        return cls(actor=user, address=client_ip(request))


# Actions with no portal user behind them: operators' commands, data migrations, tests.
SYSTEM = Audit()
