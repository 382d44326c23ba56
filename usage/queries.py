"""What the usage pages, the exports and the API read (issue 21): sums over the roll-ups only,
never the token or key tables' own rows, each in one query whatever the number of keys or
buckets.

The flush adds every count to the three roll-ups at once (minute, hour, day), so an hour's or a
day's row holds its calls so far while it is still running: a chart's last bar is the current,
partial hour or day. Buckets are UTC; pages show their starts in the viewer's time zone."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache

from django.db.models import F, Q, Sum
from django.utils.translation import gettext, gettext_lazy

from kernel import usage as counting
from kernel.usage import OUTCOMES, SUCCESSES
from scopes.routes import Route, route_table

from .models import DayUsage, HourUsage, LastUse, Rollup

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Range:
    """A choice of the usage pages: how far back, in bars of `step`, read from `table`."""

    name: str  # the `range` parameter's value
    label: str
    span: timedelta
    step: timedelta
    table: type[Rollup]

    def window(self, now: datetime) -> tuple[datetime, datetime]:
        """[start, end): `span` ending with the bar that holds `now` (UTC bar boundaries)."""
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        end = epoch + ((now - epoch) // self.step + 1) * self.step
        return end - self.span, end

    @property
    def bars(self) -> int:
        return self.span // self.step


RANGES = {
    "24h": Range("24h", gettext_lazy("24 hours"), 24 * HOUR, HOUR, HourUsage),
    "7d": Range("7d", gettext_lazy("7 days"), 7 * DAY, 6 * HOUR, HourUsage),
    "30d": Range("30d", gettext_lazy("30 days"), 30 * DAY, DAY, DayUsage),
}
DEFAULT_RANGE = "24h"
RANGE_ERROR = gettext_lazy("Choose a range of 24h, 7d or 30d.")


def range_named(value: str | None) -> Range | None:
    """The range a `range` parameter names (absent or empty: the default); None if unknown."""
    return RANGES.get(value or DEFAULT_RANGE)


def outcome_label(outcome: str) -> str:
    """What the pages call an outcome, in the reader's language (kernel.usage marks the labels)."""
    return gettext(OUTCOMES[outcome]) if outcome in OUTCOMES else outcome


def _outcome_order(outcome: str) -> int:
    order = list(OUTCOMES)
    return order.index(outcome) if outcome in order else len(order)


@dataclass
class Bar:
    start: datetime
    calls: dict[str, int] = field(default_factory=dict)  # outcome -> calls

    @property
    def total(self) -> int:
        return sum(self.calls.values())


@dataclass
class Series:
    """Calls per bar and outcome over a range, and the totals the pages say in words."""

    range: Range
    bars: list[Bar]

    @property
    def by_outcome(self) -> dict[str, int]:
        totals: dict[str, int] = defaultdict(int)
        for bar in self.bars:
            for outcome, calls in bar.calls.items():
                totals[outcome] += calls
        return dict(sorted(totals.items(), key=lambda item: _outcome_order(item[0])))

    @property
    def outcomes(self) -> list[str]:
        """The outcomes with calls in the range, in OUTCOMES' order (successes first)."""
        return list(self.by_outcome)

    @property
    def total(self) -> int:
        return sum(bar.total for bar in self.bars)

    @property
    def successes(self) -> int:
        return sum(calls for outcome, calls in self.by_outcome.items() if outcome in SUCCESSES)

    @property
    def failures(self) -> int:
        return self.total - self.successes

    @property
    def success_rate(self) -> float | None:
        """Successes per hundred calls; None with no call."""
        return 100 * self.successes / self.total if self.total else None

    @property
    def errors(self) -> list[tuple[str, str, int]]:
        """(outcome, label, calls) of every failure outcome, the most frequent first."""
        failed = [(o, outcome_label(o), c) for o, c in self.by_outcome.items() if o not in SUCCESSES]
        return sorted(failed, key=lambda item: -item[2])


def of_key(key_id: int) -> Q:
    """A key's rows."""
    return Q(key_id=key_id)


def of_tenant(tenant_id: int) -> Q:
    """A tenant's rows: its keys', and those no key could be named for. Never another tenant's
    key (a call with it on this tenant's paths is that key's tenant's to see)."""
    return Q(tenant_id=tenant_id) & (Q(key__isnull=True) | Q(key__tenant_id=tenant_id))


def series(chosen: Range, now: datetime, where: Q) -> Series:
    """Calls per bar and outcome of the rows `where` (of_key, of_tenant): one query."""
    start, end = chosen.window(now)
    bars = [Bar(start + index * chosen.step) for index in range(chosen.bars)]
    rows = (
        chosen.table.objects.filter(where, bucket__gte=start, bucket__lt=end)
        .values("bucket", "outcome")
        .annotate(total=Sum("calls"))
        .order_by()
    )
    for row in rows:
        bar = bars[(row["bucket"] - start) // chosen.step]
        bar.calls[row["outcome"]] = bar.calls.get(row["outcome"], 0) + row["total"]
    return Series(chosen, bars)


@dataclass(frozen=True)
class OperationUse:
    operation: str
    method: str  # from the route table; "" for the token service's operations
    path: str
    summary: str
    calls: int
    failures: int


# What the token service's operations are, in the words of the route table's columns.
SERVICE_OPERATIONS = {
    counting.OPERATION_TOKEN: ("POST", "/oauth/token", "Token request"),
    counting.OPERATION_ANONYMOUS_LOGIN: ("GET", "/customerlogin/auth/anonymous/login", "Anonymous login"),
    counting.OPERATION_ANONYMOUS_REFRESH: ("GET", "/customerlogin/auth/anonymous/refresh", "Anonymous session refresh"),
    counting.OPERATION_UNKNOWN: ("", "", "A path the route table does not know"),
    counting.OPERATION_PASSTHROUGH: ("", "", "A pass-through path (GATEWAY_PASSTHROUGH_PREFIXES)"),
}


def route_of(operation: str) -> tuple[str, str, str]:
    """(method, path, summary) of an operation: the route table's, or the token service's."""
    if operation in SERVICE_OPERATIONS:
        return SERVICE_OPERATIONS[operation]
    route = _routes_by_operation().get(operation)
    return (route.method, route.path, route.summary) if route else ("", "", "")


@cache
def _routes_by_operation() -> dict[str, Route]:
    return {route.operation_id: route for route in route_table().routes}


TOP_OPERATIONS = 10


def top_operations(chosen: Range, now: datetime, where: Q, limit: int = TOP_OPERATIONS) -> list[OperationUse]:
    """The most called operations over the range, with their failures: one query."""
    start, end = chosen.window(now)
    rows = (
        chosen.table.objects.filter(where, bucket__gte=start, bucket__lt=end)
        .values("operation")
        .annotate(total=Sum("calls"), failed=Sum("calls", filter=~Q(outcome__in=SUCCESSES)))
        .order_by("-total", "operation")[:limit]
    )
    return [
        OperationUse(row["operation"], *route_of(row["operation"]), row["total"], row["failed"] or 0) for row in rows
    ]


def last_use(key_id: int) -> LastUse | None:
    return LastUse.objects.filter(key_id=key_id).first()


# --- The keys page: calls in the last 24 hours per key ----------------------------------------

SPARK_STEP, SPARK_HEIGHT = 4, 24  # pixels between hours, and the line's height


@dataclass(frozen=True)
class Spark:
    """A key's calls in the last 24 hours, hour by hour, drawn as a small line."""

    hourly: tuple[int, ...]  # 24 values, the oldest hour first, the current one last
    url: str  # the key's usage page

    @property
    def total(self) -> int:
        return sum(self.hourly)

    @property
    def width(self) -> int:
        return SPARK_STEP * (len(self.hourly) - 1)

    @property
    def path(self) -> str:
        """The SVG path of the line, scaled so that the busiest hour touches the top, in whole
        pixels and with each flat run as one horizontal step: the keys page has a size budget,
        and most keys are idle most hours."""
        high = max(self.hourly) or 1
        inner = SPARK_HEIGHT - 4
        heights = [SPARK_HEIGHT - 2 - round(calls * inner / high) for calls in self.hourly]
        steps, flat_to = [f"M0,{heights[0]}"], None
        for index in range(1, len(heights)):
            x = index * SPARK_STEP
            if heights[index] == heights[index - 1]:
                flat_to = x
                continue
            if flat_to is not None:
                steps.append(f"H{flat_to}")
                flat_to = None
            steps.append(f"L{x},{heights[index]}")
        if flat_to is not None:
            steps.append(f"H{flat_to}")
        return "".join(steps)

    @property
    def text(self) -> str:
        """The line in words, for those who do not see it."""
        if not self.total:
            return gettext("No calls in the last 24 hours")
        return gettext("Per hour: busiest %(busiest)s, quietest %(quietest)s, this hour %(now)s") % {
            "busiest": max(self.hourly),
            "quietest": min(self.hourly),
            "now": self.hourly[-1],
        }


def hourly_calls(key_ids: list[int], now: datetime) -> dict[int, tuple[int, ...]]:
    """Each key's calls per hour over the last 24 hours (the current hour last): one query."""
    chosen = RANGES["24h"]
    start, end = chosen.window(now)
    hourly = {key_id: [0] * chosen.bars for key_id in key_ids}
    rows = (
        HourUsage.objects.filter(key_id__in=key_ids, bucket__gte=start, bucket__lt=end)
        .values_list("key_id", "bucket")
        .annotate(total=Sum("calls"))
        .order_by()
    )
    for key_id, bucket, total in rows:
        hourly[key_id][(bucket - start) // HOUR] += total
    return {key_id: tuple(values) for key_id, values in hourly.items()}


# --- The tenant's overview ------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyCalls:
    key_id: int | None
    public_id: object
    name: str
    client_id: str
    calls: int
    failures: int


BUSIEST_KEYS = 10


def busiest_keys(chosen: Range, now: datetime, tenant_id: int, limit: int = BUSIEST_KEYS) -> list[KeyCalls]:
    """The tenant's keys with the most calls over the range, with their names: one query."""
    start, end = chosen.window(now)
    rows = (
        chosen.table.objects.filter(tenant_id=tenant_id, key__tenant_id=tenant_id, bucket__gte=start, bucket__lt=end)
        .values("key_id", "key__public_id", "key__name", "key__client_id")
        .annotate(total=Sum("calls"), failed=Sum("calls", filter=~Q(outcome__in=SUCCESSES)))
        .order_by("-total", "key__name")[:limit]
    )
    return [
        KeyCalls(
            row["key_id"],
            row["key__public_id"],
            row["key__name"],
            row["key__client_id"],
            row["total"],
            row["failed"] or 0,
        )
        for row in rows
    ]


# Rising failures: a key's failed calls in the last 24 hours against its daily average over
# the 7 days before them. Rising when the last day has at least RISING_MINIMUM failures and
# more than RISING_FACTOR times that average (a key with no failure before rises with the minimum).
RISING_MINIMUM = 10
RISING_FACTOR = 2
RISING_BEFORE_DAYS = 7
RISING_SHOWN = 20


@dataclass(frozen=True)
class RisingFailures:
    key_id: int
    public_id: object
    name: str
    client_id: str
    last_day: int
    daily_before: float  # the average per day over the RISING_BEFORE_DAYS before


def rising_failures(now: datetime, tenant_id: int) -> list[RisingFailures]:
    """The tenant's keys whose failures are rising (see RISING_*), the steepest first: one query."""
    day_start, end = RANGES["24h"].window(now)
    before_start = day_start - RISING_BEFORE_DAYS * DAY
    failed = ~Q(outcome__in=SUCCESSES)
    rows = (
        HourUsage.objects.filter(
            tenant_id=tenant_id, key__tenant_id=tenant_id, bucket__gte=before_start, bucket__lt=end
        )
        .filter(failed)
        .values("key_id", "key__public_id", "key__name", "key__client_id")
        .annotate(
            last_day=Sum("calls", filter=Q(bucket__gte=day_start), default=0),
            before=Sum("calls", filter=Q(bucket__lt=day_start), default=0),
        )
        # Whole numbers only: last_day > FACTOR * before / DAYS, multiplied out.
        .annotate(rise=F("last_day") * RISING_BEFORE_DAYS - F("before") * RISING_FACTOR)
        .filter(last_day__gte=RISING_MINIMUM, rise__gt=0)
        .order_by("-last_day", "key__name")[:RISING_SHOWN]
    )
    return [
        RisingFailures(
            row["key_id"],
            row["key__public_id"],
            row["key__name"],
            row["key__client_id"],
            row["last_day"],
            row["before"] / RISING_BEFORE_DAYS,
        )
        for row in rows
    ]


# --- Exports -------------------------------------------------------------------------------------


def export_rows(chosen: Range, now: datetime, where: Q):
    """One row per bucket × key × operation × outcome over the range (the table's own buckets:
    hours, or days for 30 days), the oldest first, with the key's name and Client ID; streamed
    in one query. Secrets are summed away: the rows name no secret."""
    start, end = chosen.window(now)
    return (
        chosen.table.objects.filter(where, bucket__gte=start, bucket__lt=end)
        .values_list("bucket", "key__name", "key__client_id", "operation", "outcome")
        .annotate(total=Sum("calls"))
        .order_by("bucket", "key__name", "key__client_id", "operation", "outcome")
        .iterator(chunk_size=2000)
    )
