"""Health endpoints for load balancers and orchestrators: public, JSON, never cached, logged
at DEBUG (their failures are reported once per interval by kernel.outages).

- GET /healthz: the process answers. No dependency is asked; 200 while the process runs.
- GET /readyz: whether this instance can do its work: the database answers `SELECT 1`, the
  cache answers (if not, "degraded", still 200: rate limits fall back to the process), and
  the encryption keys are the ones the database's secrets were written with (the canaries,
  checked once a minute per process). 503 while the database is down or the keys are wrong.
"""

import time
import uuid

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from kernel.canary import canaries_check

from . import outages

KEYS_RECHECK_SECONDS = 60
_keys_verdict: tuple[float, str] | None = None  # (when checked, "ok" or "wrong")


def keys_verdict_forget() -> None:
    global _keys_verdict
    _keys_verdict = None


@login_not_required
@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _select_one() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache() -> str:
    try:
        marker = uuid.uuid4().hex
        cache.set("portal:readyz", marker, timeout=30)
        if cache.get("portal:readyz") != marker:
            raise RuntimeError("the cache did not return what was just written")
    except Exception as exc:  # any client error: the cache is an accelerator, not a dependency
        outages.report("cache", exc)
        return "unavailable"
    return "ok"


def _encryption_keys() -> str:
    """ "ok" unless the key that encrypts has the wrong material for its canary, or none of the
    configured keys opens anything stored. A few small queries, so the verdict is kept for
    KEYS_RECHECK_SECONDS (keys change only with a restart; the database's content rarely)."""
    global _keys_verdict
    if _keys_verdict is not None and time.monotonic() - _keys_verdict[0] < KEYS_RECHECK_SECONDS:
        return _keys_verdict[1]
    report = canaries_check()
    verdict = "ok" if report.primary_ok and not report.blind else "wrong"
    _keys_verdict = (time.monotonic(), verdict)
    return verdict


@login_not_required
@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": "ok", "cache": _cache(), "encryption_keys": "unknown"}
    try:
        _select_one()
        checks["encryption_keys"] = _encryption_keys()
    except Exception as exc:
        if not outages.database_failure(exc):
            raise
        outages.report("database", exc)
        checks["database"] = "unavailable"
    if checks["database"] != "ok" or checks["encryption_keys"] != "ok":
        status = "unavailable"
    else:
        status = "degraded" if checks["cache"] != "ok" else "ok"
    response = JsonResponse({"status": status, "checks": checks}, status=503 if status == "unavailable" else 200)
    if status == "unavailable":
        response["Retry-After"] = str(settings.OUTAGE_RETRY_AFTER)
    return response
