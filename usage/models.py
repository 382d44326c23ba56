"""Roll-ups of what each key did (issue 21): calls per (bucket, tenant, key, secret,
operation, outcome), in three tables by bucket size, each kept for its own time (settings
USAGE_KEEP_*). Written only by the flush (usage.flush), never on a request's path; read by the
keys' usage pages, the access advisor and the API.

A row without a key counts calls no key can be named for (a gateway call with an invalid token,
an unknown Client ID); without a tenant, calls no tenant can be named for."""

from django.db import models

from apikeys.models import ApiKey
from tenants.models import Tenant


class Rollup(models.Model):
    bucket = models.DateTimeField()  # the start of the minute, hour or day (UTC)
    tenant = models.ForeignKey(Tenant, null=True, on_delete=models.CASCADE, db_index=False, related_name="+")
    key = models.ForeignKey(ApiKey, null=True, on_delete=models.CASCADE, db_index=False, related_name="+")
    # The ApiSecret's id: no foreign key, so that a secret's deletion does not rewrite history.
    secret_id = models.BigIntegerField(null=True)
    operation = models.CharField(max_length=200)  # a route's operation id, or kernel.usage.OPERATION_*
    outcome = models.CharField(max_length=32)  # one of kernel.usage.OUTCOMES
    calls = models.BigIntegerField()

    class Meta:
        abstract = True


def _one_row_and_indexes(name: str) -> tuple[list, list]:
    """A roll-up table's Meta: one row per bucket and counter (NULLs equal: no key, no
    tenant), and the indexes the pages read by (a key's, a tenant's buckets)."""
    one_row = models.UniqueConstraint(
        fields=["bucket", "tenant", "key", "secret_id", "operation", "outcome"],
        name=f"usage_{name}_one_row",
        nulls_distinct=False,
    )
    indexes = [
        models.Index(fields=["key", "bucket"], name=f"usage_{name}_by_key"),
        models.Index(fields=["tenant", "bucket"], name=f"usage_{name}_by_tenant"),
    ]
    return [one_row], indexes


class MinuteUsage(Rollup):
    class Meta:
        constraints, indexes = _one_row_and_indexes("minute")


class HourUsage(Rollup):
    class Meta:
        constraints, indexes = _one_row_and_indexes("hour")


class DayUsage(Rollup):
    class Meta:
        constraints, indexes = _one_row_and_indexes("day")


class LastUse(models.Model):
    """Where and when a key was last used successfully: the network only (IPv4 /24, IPv6 /48),
    never the full address."""

    key = models.OneToOneField(ApiKey, primary_key=True, on_delete=models.CASCADE, related_name="last_use")
    network = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField()


class FlushedBatch(models.Model):
    """A batch of Redis counts written into the roll-ups, recorded in the same transaction: a
    flush that dies after its commit and before it deleted the batch from Redis finds it here
    and only deletes it (counted once, never twice)."""

    name = models.CharField(max_length=100, primary_key=True)
    flushed_at = models.DateTimeField()


class FlushWorker(models.Model):
    """A `usage_flush` worker's sign of life, one row per process (host and process id),
    written on every pass: an operator sees when counts last reached the roll-ups (the newest
    `beat_at`) and how long the flush takes (`last_seconds`)."""

    worker = models.CharField(max_length=150, unique=True)
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True)
    last_calls = models.BigIntegerField(default=0)  # calls written by the last pass
    last_seconds = models.FloatField(default=0)  # how long the last pass took

    def __str__(self) -> str:
        return f"{self.worker} at {self.beat_at:%Y-%m-%d %H:%M:%S}"
