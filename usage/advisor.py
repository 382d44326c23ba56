"""The access advisor (issue 21, docs/access-advisor.md): per key and per service, the scopes a
key holds, the operations of the route table each opens, when each was last used and its calls
in the last 30 and 90 days; and one finding per key: never used, dormant, no calls through the
gateway check, or "N scopes unused in 90 days", with the scopes to keep.

It reads the daily roll-ups only (usage.models.DayUsage, kept 400 days): allowed gateway calls
(kernel.usage.ALLOWED) per key and operation. A roll-up does not say which of the token's scopes
let a call through, so "used" is decided here, from the operations called (`_credit`):

- an operation that exactly one of the key's scopes opens uses that scope;
- an operation that several of them open uses one of them: a scope already used by another
  operation if one opens it, else the narrowest (the one that opens the fewest operations of
  the route table; a read scope before others; then by name). Keeping the scopes used is then
  enough for every operation called, and no broader scope is kept for an operation that a
  narrower one serves;
- an operation that needs no particular scope, or that none of the key's current scopes opens
  (a scope removed since), uses none.

Every query is made once for all the keys asked about (`advise`), whatever their number or
their scopes' number: the keys with their last use, the catalogue's scopes they hold, and the
roll-ups' sums per key and operation.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache

from django.db.models import F, Max, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from apikeys.auth import custom_scope_names, held_scope_names
from apikeys.models import ApiKey, KeyKind
from kernel.usage import ALLOWED
from scopes.models import Scope
from scopes.routes import Route, route_table
from scopes.unlocks import operation_count, operation_label
from tenants.models import Tenant

from .models import DayUsage

# The advisor's window: a scope with no allowed call of an operation it opens for this long is
# unused (AWS IAM's access advisor and Google's recommender look back 90 days too).
WINDOW_DAYS = 90
RECENT_DAYS = 30

NEVER_USED = "never_used"
DORMANT = "dormant"
NO_GATEWAY_CALLS = "no_gateway_calls"
UNUSED_SCOPES = "unused_scopes"
# The order the tenant's findings list shows them in: the keys to look at first, first.
FINDING_ORDER = (NEVER_USED, DORMANT, UNUSED_SCOPES, NO_GATEWAY_CALLS)


@dataclass
class OperationUse:
    """One operation of the route table that a key's scopes open, and its allowed calls."""

    route: Route
    last_used: datetime | None = None  # the day (UTC) of its last allowed call in the window
    calls_30: int = 0
    calls_90: int = 0
    used_as: str | None = None  # the scope its calls count for (see the module's docstring)

    @property
    def label(self) -> str:
        return operation_label(self.route)


@dataclass
class ScopeUse:
    name: str
    deprecated: bool
    operations: list[OperationUse]  # every operation it opens, in the table's order
    last_used: datetime | None = None
    calls_30: int = 0
    calls_90: int = 0
    # For an unused scope: the scopes used for the calls of operations it opens too.
    covered_by: tuple[str, ...] = ()

    @property
    def used(self) -> bool:
        return self.calls_90 > 0

    @property
    def used_operations(self) -> list[OperationUse]:
        return [operation for operation in self.operations if operation.used_as == self.name]


@dataclass
class ServiceUse:
    """The key's scopes of one service of the catalogue (Scope.service)."""

    name: str
    scopes: list[ScopeUse]
    operations: list[OperationUse]  # what they open together, each once, in the table's order

    @property
    def last_used(self) -> datetime | None:
        return max((op.last_used for op in self.operations if op.last_used), default=None)

    @property
    def calls_30(self) -> int:
        return sum(op.calls_30 for op in self.operations)

    @property
    def calls_90(self) -> int:
        return sum(op.calls_90 for op in self.operations)

    @property
    def unused_count(self) -> int:
        return sum(1 for scope in self.scopes if not scope.used)


@dataclass
class KeyAdvice:
    key: ApiKey
    used_scopes: list[str]  # sorted names
    unused_scopes: list[str]
    last_used: datetime | None  # its last successful use of any kind (a token, a gateway call)
    calls_30: int  # allowed gateway calls of the route table's operations, each counted once
    calls_90: int
    dormant_after_days: int
    # By service, with every operation; empty when only the summary was asked for (`advise`).
    services: list[ServiceUse] = field(default_factory=list)
    # Allowed calls of operations no scope of the key is needed for (or none it holds now).
    unscoped: list[OperationUse] = field(default_factory=list)
    finding: str | None = None

    @property
    def scopes(self) -> list[ScopeUse]:
        return [scope for service in self.services for scope in service.scopes]

    @property
    def can_narrow(self) -> bool:
        """True if "Narrow to what is used" applies: a custom key with used and unused scopes."""
        return self.key.kind == KeyKind.CUSTOM and self.finding == UNUSED_SCOPES and bool(self.used_scopes)

    @property
    def summary(self) -> str:
        """The finding in words, as the findings list and the API say it."""
        unused = len(self.unused_scopes)
        if self.finding == NEVER_USED:
            return gettext("Never used")
        if self.finding == DORMANT:
            return gettext("Dormant: no successful use in %(days)s days") % {"days": self.dormant_after_days}
        if self.finding == NO_GATEWAY_CALLS:
            return gettext(
                "No calls through the gateway check in %(days)s days: which scopes it uses is not known here"
            ) % {"days": WINDOW_DAYS}
        if self.finding == UNUSED_SCOPES:
            return ngettext(
                "%(count)d scope unused in %(days)s days", "%(count)d scopes unused in %(days)s days", unused
            ) % {"count": unused, "days": WINDOW_DAYS}
        return gettext("Every scope used in %(days)s days") % {"days": WINDOW_DAYS}


def _narrowness(name: str) -> tuple[int, bool, str]:
    """Sort key: the narrowest scope first (fewest operations opened, read scopes first)."""
    return (operation_count(name), not name.endswith(("_read", "_view")), name)


def _credit(called: list[Route], held: frozenset[str]) -> dict[str, str]:
    """operation id -> the held scope its calls count for (see the module's docstring).
    Operations with a single candidate first, so that a scope they need serves the others."""
    candidates = {route.operation_id: sorted(held.intersection(route.any_of_scopes)) for route in called}
    used: set[str] = set()
    credit: dict[str, str] = {}
    for route in sorted(called, key=lambda route: len(candidates[route.operation_id])):
        names = candidates[route.operation_id]
        if not names:
            continue
        already = [name for name in names if name in used]
        chosen = min(already or names, key=_narrowness)
        credit[route.operation_id] = chosen
        used.add(chosen)
    return credit


def _window(now: datetime) -> tuple[datetime, datetime]:
    """The first day bucket of the last 90 and of the last 30 days, today (UTC) included."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=WINDOW_DAYS - 1), today - timedelta(days=RECENT_DAYS - 1)


def _calls(keys: list[ApiKey], now: datetime) -> dict[int, dict[str, tuple[datetime, int, int]]]:
    """key id -> operation id -> (last day used, calls in 30 days, calls in 90 days): one query."""
    since_90, since_30 = _window(now)
    rows = (
        DayUsage.objects.filter(key__in=[key.pk for key in keys], outcome=ALLOWED, bucket__gte=since_90)
        .values("key_id", "operation")
        .annotate(
            last=Max("bucket"),
            recent=Coalesce(Sum("calls", filter=Q(bucket__gte=since_30)), 0),
            total=Sum("calls"),
        )
        .order_by()
    )
    calls: dict[int, dict[str, tuple[datetime, int, int]]] = defaultdict(dict)
    for row in rows:
        calls[row["key_id"]][row["operation"]] = (row["last"], row["recent"], row["total"])
    return calls


def keys_for_advice(tenant: Tenant) -> QuerySet[ApiKey]:
    """A tenant's keys with what the advisor needs of them in the same query: the custom keys'
    scope names and the last use the usage pipeline saw (usage.LastUse)."""
    return (
        ApiKey.objects.filter(tenant=tenant)
        .annotate(custom_scopes=custom_scope_names(), seen_at=F("last_use__at"))
        .order_by("kind", "name")
    )


def _last_used(key: ApiKey, calls: dict[str, tuple[datetime, int, int]]) -> datetime | None:
    moments = [key.last_used_at, getattr(key, "seen_at", None), *(last for last, _, _ in calls.values())]
    return max((moment for moment in moments if moment is not None), default=None)


@cache
def _routes_by_id() -> dict[str, Route]:
    return {route.operation_id: route for route in route_table().routes if route.operation_id}


@cache
def _positions() -> dict[int, int]:
    """id(route) -> its place in the route table (which is read once per process)."""
    return {id(route): index for index, route in enumerate(route_table().routes)}


def _advice(
    key: ApiKey, tenant: Tenant, catalogue: dict[str, Scope], calls: dict[str, tuple], now: datetime, detail: bool
) -> KeyAdvice:
    held = frozenset(held_scope_names(key))
    by_id = _routes_by_id()
    called = sorted((by_id[op] for op in calls if op in by_id), key=lambda route: _positions()[id(route)])
    credit = _credit(called, held)
    used = set(credit.values())
    advice = KeyAdvice(
        key=key,
        used_scopes=sorted(used),
        unused_scopes=sorted(held - used),
        last_used=_last_used(key, calls),
        calls_30=sum(calls[route.operation_id][1] for route in called),
        calls_90=sum(calls[route.operation_id][2] for route in called),
        dormant_after_days=tenant.dormant_after_days,
    )
    advice.finding = _finding(advice, bool(held), now)
    if detail:
        _detail(advice, held, catalogue, calls, called, credit)
    return advice


def _detail(
    advice: KeyAdvice,
    held: frozenset[str],
    catalogue: dict[str, Scope],
    calls: dict[str, tuple],
    called: list[Route],
    credit: dict[str, str],
) -> None:
    """Fill in the advice's services: each held scope with every operation it opens."""
    table = route_table()
    uses: dict[str | None, OperationUse] = {}

    def use(route: Route) -> OperationUse:
        if route.operation_id not in uses:
            last, recent, total = calls.get(route.operation_id, (None, 0, 0))
            uses[route.operation_id] = OperationUse(route, last, recent, total, credit.get(route.operation_id))
        return uses[route.operation_id]

    grouped: dict[str, list[ScopeUse]] = defaultdict(list)
    order: dict[str, tuple] = {}
    for name in held:
        scope = catalogue.get(name)
        service = scope.service if scope else None
        service_name = service.name if service else gettext("Other")
        order[service_name] = (service.position, service.name) if service else (1 << 30, "")
        operations = [use(route) for route in table.opened_by_scope(name)]
        mine = [op for op in operations if op.used_as == name]
        entry = ScopeUse(
            name=name,
            deprecated=bool(scope and scope.deprecated),
            operations=operations,
            last_used=max((op.last_used for op in mine), default=None),
            calls_30=sum(op.calls_30 for op in mine),
            calls_90=sum(op.calls_90 for op in mine),
        )
        if not entry.used:
            entry.covered_by = tuple(sorted({op.used_as for op in operations if op.used_as}))
        grouped[service_name].append(entry)
    for service_name in sorted(grouped, key=lambda service_name: order[service_name]):
        scopes = sorted(
            grouped[service_name], key=lambda s: (catalogue[s.name].position if s.name in catalogue else 0, s.name)
        )
        opened = {id(op.route): op for scope in scopes for op in scope.operations}
        operations = [opened[place] for place in sorted(opened, key=_positions().__getitem__)]
        advice.services.append(ServiceUse(service_name, scopes, operations))
    advice.unscoped = [use(route) for route in called if route.operation_id not in credit]


def _finding(advice: KeyAdvice, holds_scopes: bool, now: datetime) -> str | None:
    if advice.last_used is None:
        return NEVER_USED
    if advice.last_used <= now - timedelta(days=advice.dormant_after_days):
        return DORMANT
    if not advice.used_scopes:
        return NO_GATEWAY_CALLS if holds_scopes else None
    return UNUSED_SCOPES if advice.unused_scopes else None


def advise(
    keys: Iterable[ApiKey], tenant: Tenant, now: datetime | None = None, *, detail: bool = True
) -> list[KeyAdvice]:
    """The advice for `keys` (of `tenant`, fetched through keys_for_advice), in their order:
    two queries whatever their number, plus one for the built-in keys' scope lists when the
    process has not cached them yet (apikeys.auth). Without `detail`, the finding and the
    scopes used and unused only (no services, no operations): what a list of keys shows."""
    now = now or timezone.now()
    keys = list(keys)
    catalogue: dict[str, Scope] = {}
    if detail:
        names = {name for key in keys for name in held_scope_names(key)}
        catalogue = {scope.name: scope for scope in Scope.objects.filter(name__in=names).select_related("service")}
    calls = _calls(keys, now)
    return [_advice(key, tenant, catalogue, calls.get(key.pk, {}), now, detail) for key in keys]


def key_advice(key: ApiKey, tenant: Tenant, now: datetime | None = None) -> KeyAdvice:
    return advise([key], tenant, now)[0]


def tenant_findings(tenant: Tenant, now: datetime | None = None) -> list[KeyAdvice]:
    """Every key of the tenant with a finding (summaries), the keys to look at first, first."""
    findings = [advice for advice in advise(keys_for_advice(tenant), tenant, now, detail=False) if advice.finding]
    return sorted(findings, key=lambda advice: FINDING_ORDER.index(advice.finding))
