"""Who is acting, and from where: the part of a request that services need in order to record
activity. Views build it with `Audit.of(request)`; commands and tests build it directly, so
that no service takes an HttpRequest."""

from dataclasses import dataclass

from django.http import HttpRequest

from accounts.models import User
from portal.net import client_ip


@dataclass(frozen=True)
class Audit:
    actor: User | None = None  # None: the system or an operator's command
    address: str = ""  # the client address, as client_ip() sees it

    @classmethod
    def of(cls, request: HttpRequest) -> "Audit":
        user = request.user if request.user.is_authenticated else None
        return cls(actor=user, address=client_ip(request))


# Actions with no portal user behind them: operators' commands, data migrations, tests.
SYSTEM = Audit()
