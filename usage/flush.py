"""Counts into the roll-ups (issue 21): the only writer of MinuteUsage, HourUsage, DayUsage and
LastUse.

Two ways in, one way of writing (`counts_write`):
- with Redis as the shared cache, every process pushes its counts there (kernel.usage) and the
  `usage_flush` worker moves them here (`flush`), exactly once: a minute's hash is taken
  atomically (renamed to a batch of its own, named in the set of batches, in one Lua script the
  pushes cannot interleave with), the batch is written together with its FlushedBatch row in one
  transaction, and only then deleted from Redis. A worker killed between the commit and the
  delete leaves a batch that the next pass finds already in FlushedBatch: it is deleted, not
  counted again; one killed before the commit leaves a batch that is applied.
- without one (local memory, as under `make run` on SQLite), each process writes its own counts
  straight here from its background thread (`sink`, registered in apps.py).

Counts of a key or tenant deleted since are dropped (their roll-ups went with them). Roll-ups are
upserts (INSERT ... ON CONFLICT DO UPDATE calls = calls + excluded.calls) on PostgreSQL, whose
unique constraint treats NULLs as equal; SQLite has no such constraint, so there a row is
updated, or inserted when there is none (a process at a time: SQLite has one writer).
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from apikeys.models import ApiKey
from kernel import usage
from tenants.models import Tenant

from .models import DayUsage, FlushedBatch, HourUsage, LastUse, MinuteUsage

CHUNK = 500  # rows per INSERT statement
PRUNE_CHUNK = 5000  # rows per DELETE
BATCHES_KEPT = timedelta(days=1)  # FlushedBatch rows: far longer than a batch can wait in Redis
COLUMNS = ("bucket", "tenant_id", "key_id", "secret_id", "operation", "outcome")
Row = tuple[datetime, int | None, int | None, int | None, str, str]


# --- Writing ------------------------------------------------------------------------------------


def _buckets(counts: dict[usage.Count, int]) -> dict[type[Model], dict[Row, int]]:
    """The counts summed per minute, hour and day."""
    tables: dict[type[Model], dict[Row, int]] = {MinuteUsage: defaultdict(int), HourUsage: defaultdict(int)}
    tables[DayUsage] = defaultdict(int)
    for counter, calls in counts.items():
        rest = (counter.tenant_id, counter.key_id, counter.secret_id, counter.operation, counter.outcome)
        for table, size in ((MinuteUsage, 60), (HourUsage, 3600), (DayUsage, 86400)):
            start = datetime.fromtimestamp(counter.minute // size * size, tz=UTC)
            tables[table][(start, *rest)] += calls
    return tables


def _existing(model: type[Model], ids: Iterable[int | None]) -> set[int]:
    """Those of `ids` that are still rows of `model` (one query, none for no ids)."""
    wanted = {pk for pk in ids if pk is not None}
    return set(model.objects.filter(pk__in=wanted).values_list("pk", flat=True)) if wanted else set()


# The statements below are built from table and column names of these models only; every value
# is a parameter.


def _upsert(table: type[Model], rows: dict[Row, int]) -> None:
    name = connection.ops.quote_name(table._meta.db_table)
    columns = ", ".join((*COLUMNS, "calls"))
    items = list(rows.items())
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for start in range(0, len(items), CHUNK):
                chunk = items[start : start + CHUNK]
                values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
                cursor.execute(
                    f"INSERT INTO {name} ({columns}) VALUES {values} "  # noqa: S608
                    f"ON CONFLICT ({', '.join(COLUMNS)}) DO UPDATE SET calls = {name}.calls + EXCLUDED.calls",
                    [value for row, calls in chunk for value in (*row, calls)],
                )
            return
        match = " AND ".join(f"{column} IS %s" for column in COLUMNS)
        for row, calls in items:
            adapted = (connection.ops.adapt_datetimefield_value(row[0]), *row[1:])
            cursor.execute(f"UPDATE {name} SET calls = calls + %s WHERE {match}", [calls, *adapted])  # noqa: S608
            if not cursor.rowcount:
                insert = f"INSERT INTO {name} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s)"  # noqa: S608
                cursor.execute(insert, [*adapted, calls])


def _last_uses_write(seen: dict[int, usage.Seen], keys: set[int]) -> None:
    """Each key's last use, the newest winning over what is stored."""
    rows = [(key_id, entry) for key_id, entry in seen.items() if key_id in keys]
    if not rows:
        return
    name = connection.ops.quote_name(LastUse._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            values = ", ".join(["(%s, %s, %s)"] * len(chunk))
            params = []
            for key_id, entry in chunk:
                at = datetime.fromtimestamp(entry.at, tz=UTC)
                params += [key_id, entry.network, connection.ops.adapt_datetimefield_value(at)]
            upsert = (
                f"INSERT INTO {name} (key_id, network, at) VALUES {values} ON CONFLICT (key_id) "  # noqa: S608
                f"DO UPDATE SET network = EXCLUDED.network, at = EXCLUDED.at WHERE EXCLUDED.at > {name}.at"
            )
            cursor.execute(upsert, params)


def counts_write(counts: dict[usage.Count, int], seen: dict[int, usage.Seen]) -> None:
    """Add `counts` to the roll-ups and `seen` to the last uses (in the caller's transaction)."""
    tenants = _existing(Tenant, (counter.tenant_id for counter in counts))
    keys = _existing(ApiKey, [*(counter.key_id for counter in counts), *seen])
    kept = {
        counter: calls
        for counter, calls in counts.items()
        if (counter.tenant_id is None or counter.tenant_id in tenants)
        and (counter.key_id is None or counter.key_id in keys)
    }
    for table, rows in _buckets(kept).items():
        _upsert(table, rows)
    _last_uses_write(seen, keys)


def sink(counts: dict[usage.Count, int], seen: dict[int, usage.Seen]) -> None:
    """kernel.usage's hand-on without a shared cache: straight into the roll-ups."""
    with transaction.atomic():
        counts_write(counts, seen)


# --- From Redis ---------------------------------------------------------------------------------

# Takes a hash (a minute's counts, or the last uses) as a batch: renamed, named in the set of
# batches and out of the set of minutes, all at once. KEYS: the hash, the batch's name, the set
# of minutes, the set of batches.
_TAKE_SCRIPT = """
redis.call('SREM', KEYS[3], KEYS[1])
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('SADD', KEYS[4], KEYS[2])
return 1
"""


class Flusher:
    """The flush of one Redis (the default cache): `take` and `apply`, or both (`flush`)."""

    def __init__(self, backend: RedisCache | None = None) -> None:
        self.backend = backend if backend is not None else caches["default"]
        if not isinstance(self.backend, RedisCache):
            raise RuntimeError("usage_flush needs Redis as the default cache (CACHE_URL=redis://...)")
        self.client = usage.redis_client(self.backend)
        self.minutes = self.backend.make_key(usage.MINUTES)
        self.batches = self.backend.make_key(usage.BATCHES)
        self.seen = self.backend.make_key(usage.SEEN)
        self.minute_prefix = self.backend.make_key(usage.minute_hash(0))[: -len("0")]

    def _take(self, name: str, minute: str) -> None:
        batch = f"{self.backend.make_key('usage:batch')}:{minute}:{uuid.uuid4().hex}"
        self.client.eval(_TAKE_SCRIPT, 4, name, batch, self.minutes, self.batches)

    def take(self) -> None:
        """Every minute's hash so far, and the last uses, become batches."""
        for raw in self.client.smembers(self.minutes):
            name = raw.decode()
            self._take(name, name[len(self.minute_prefix) :])
        self._take(self.seen, "seen")

    def apply(self, batch: str) -> int:
        """Write one batch into the roll-ups, exactly once; the calls it held."""
        if FlushedBatch.objects.filter(name=batch).exists():  # written; its worker died before the delete
            self._forget(batch)
            return 0
        fields = self.client.hgetall(batch)
        minute = batch.rsplit(":", 2)[1]
        counts: dict[usage.Count, int] = {}
        seen: dict[int, usage.Seen] = {}
        if minute == "seen":
            for key_id, value in fields.items():
                at, _, network = value.decode().partition(" ")
                seen[int(key_id)] = usage.Seen(network, float(at))
        else:
            counts = {usage.counter_of(int(minute), field): int(calls) for field, calls in fields.items()}
        with transaction.atomic():
            counts_write(counts, seen)
            FlushedBatch.objects.create(name=batch, flushed_at=timezone.now())
        self._forget(batch)
        return sum(counts.values())

    def _forget(self, batch: str) -> None:
        with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(batch)
            pipe.srem(self.batches, batch)
            pipe.execute()

    def pending(self) -> list[str]:
        """Batches taken and not yet deleted: this pass's, and any a killed worker left."""
        return sorted(raw.decode() for raw in self.client.smembers(self.batches))

    def flush(self) -> int:
        """Finish what a killed worker left, then take and write everything counted so far;
        the calls written."""
        written = sum(self.apply(batch) for batch in self.pending())
        self.take()
        return written + sum(self.apply(batch) for batch in self.pending())


# --- Retention ----------------------------------------------------------------------------------


def _delete_before(table: type[Model], field: str, cutoff: datetime) -> int:
    """Delete `table`'s rows with `field` before `cutoff`, PRUNE_CHUNK at a time (no long lock)."""
    deleted = 0
    old = table.objects.filter(**{f"{field}__lt": cutoff}).order_by()
    while True:
        chunk = list(old.values_list("pk", flat=True)[:PRUNE_CHUNK])
        if not chunk:
            return deleted
        deleted += table.objects.filter(pk__in=chunk).delete()[0]


def prune(now: datetime | None = None) -> dict[str, int]:
    """Delete the roll-ups past their retention (settings USAGE_KEEP_*) and old FlushedBatch
    rows; how many rows of each."""
    now = now or timezone.now()
    return {
        "minute": _delete_before(MinuteUsage, "bucket", now - timedelta(hours=settings.USAGE_KEEP_MINUTES_HOURS)),
        "hour": _delete_before(HourUsage, "bucket", now - timedelta(days=settings.USAGE_KEEP_HOURS_DAYS)),
        "day": _delete_before(DayUsage, "bucket", now - timedelta(days=settings.USAGE_KEEP_DAYS_DAYS)),
        "batches": _delete_before(FlushedBatch, "flushed_at", now - BATCHES_KEPT),
    }
