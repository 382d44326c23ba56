"""Health endpoints for load balancers and orchestrators: public, JSON, never cached, logged
at DEBUG (their failures are reported once per interval by kernel.outages).

- GET /healthz: the process answers. No dependency is asked; 200 while the process runs.
- GET /readyz: whether this instance can do its work: the database answers `SELECT 1`, the
  cache answers (if not, "degraded", still 200: rate limits fall back to the process), the
  encryption keys are the ones the database's secrets were written with and every stored
  sealed value's key is configured here (the canaries and the sealed stores' counts,
  kernel.canary), and the checks the apps register pass (`readiness_register`: the token
  service's JWT signing key). The keys and the registered checks are checked once a minute
  per process. 503 while the database is down or something stored cannot be read here, with
  `reasons`: what is wrong, naming key ids, never key material.
"""

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from kernel.canary import canaries_check

from . import outages

logger = logging.getLogger(__name__)

KEYS_RECHECK_SECONDS = 60

# Checks the apps add to readiness (the kernel knows no domain): name -> a function that
# returns None when this instance can do that part of its work, else the reason.
ReadinessCheck = Callable[[], str | None]
_readiness_checks: dict[str, ReadinessCheck] = {}


def readiness_register(name: str, check: ReadinessCheck) -> None:
    """Add `check` to /readyz as checks[name], from an AppConfig.ready(). It runs with the
    encryption keys' check, once per KEYS_RECHECK_SECONDS per process and only while the
    database answers; its reason is shown to anyone who asks /readyz, so it names ids, never
    a secret or key material. A database failure in it is the database's."""
    _readiness_checks[name] = check


@dataclass(frozen=True)
class _Verdict:
    checked_at: float
    checks: dict[str, str]  # "encryption_keys" and each registered check: "ok" or what failed
    reasons: list[str]


_keys_verdict: _Verdict | None = None


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


def _key_reasons() -> list[str]:
    """What keeps the configured encryption keys from reading what is stored: a key with the
    wrong material for its id, a stored value sealed under a key not configured here, or
    keys none of which opens anything stored."""
    report = canaries_check()
    reasons = [
        f"encryption key {key_id!r} is not the key this database knows by that id" for key_id in report.mismatched
    ]
    for key_id, stores in sorted(report.unconfigured.items()):
        what = ", ".join(f"{count} {name}(s)" for name, count in sorted(stores.items()))
        reasons.append(f"encryption key {key_id!r} is not configured here; stored under it: {what}")
    if report.blind:
        reasons.append("none of the configured encryption keys opens what this database stores")
    return reasons


def _keys_and_registered() -> _Verdict:
    """The encryption keys' and the registered checks' verdict. A few small queries, so it is
    kept for KEYS_RECHECK_SECONDS (keys change only with a restart; what is stored rarely)."""
    global _keys_verdict
    if _keys_verdict is not None and time.monotonic() - _keys_verdict.checked_at < KEYS_RECHECK_SECONDS:
        return _keys_verdict
    reasons = _key_reasons()
    checks = {"encryption_keys": "wrong" if reasons else "ok"}
    for name, check in _readiness_checks.items():
        try:
            reason = check()
        except Exception as exc:
            if outages.database_failure(exc):
                raise
            # A check that breaks cannot vouch for its part: not ready, and the log says why.
            logger.exception("readiness check %s failed", name)
            reason = f"the {name} check failed ({type(exc).__name__})"
        checks[name] = "ok" if reason is None else "failed"
        reasons += [reason] if reason is not None else []
    _keys_verdict = _Verdict(time.monotonic(), checks, reasons)
    return _keys_verdict


@login_not_required
@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": "ok", "cache": _cache(), "encryption_keys": "unknown"}
    checks.update(dict.fromkeys(_readiness_checks, "unknown"))
    reasons: list[str] = []
    try:
        _select_one()
        verdict = _keys_and_registered()
        checks.update(verdict.checks)
        reasons = verdict.reasons
    except Exception as exc:
        if not outages.database_failure(exc):
            raise
        outages.report("database", exc)
        checks["database"] = "unavailable"
    if checks["database"] != "ok" or reasons:
        status = "unavailable"
    else:
        status = "degraded" if checks["cache"] != "ok" else "ok"
    body: dict = {"status": status, "checks": checks}
    if reasons:
        body["reasons"] = reasons
    response = JsonResponse(body, status=503 if status == "unavailable" else 200)
    if status == "unavailable":
        response["Retry-After"] = str(settings.OUTAGE_RETRY_AFTER)
    return response
