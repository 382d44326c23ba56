"""The daily key-hygiene run (`manage.py key_hygiene`, a systemd timer in deploy/):

- **Reminders.** A key that expires (custom keys' `expires_at`) or whose secret must be renewed
  (`renew_by`, the tenant's maximum secret age) within KEY_REMINDER_DAYS (14, 3 and 1 by
  default) gets one reminder per threshold, sent once (KeyReminder): the tightest threshold
  reached, so a run that was missed does not send three mails at once.
- **Expired.** A key that passed either date is recorded once in the activity log ("Key
  expired"), which is what webhooks and the page see.
- **Dormant keys.** A key no secret of which was used for the tenant's `dormant_after_days`
  (counted from its creation if never used) is dormant (shown on the page, `ApiKey.is_dormant`).
  With `dormant_disable_after_days` set, the admins are warned once when it turns dormant
  (naming the day), and the key is disabled on that day, with a mail.

Mails go to the tenant's admins, one digest per tenant and run, with text and HTML parts.
Each reminder is recorded only after its mail went out, so a failed mail is retried next run.

One run at a time: every host's timer starts a run at the same moment, and two runs would both
find the same notices unsent, send both digests and record "Key expired" twice (webhooks would
get the event twice). A run holds the lock `key_hygiene` (kernel/locks.py) for its whole work;
one started meanwhile does nothing and says so.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import ngettext

from activity.audit import SYSTEM
from activity.models import Action
from activity.services import activity_record
from kernel.locks import run_alone
from notifications.kinds import KEY_HYGIENE
from notifications.services import notify_tenant_admins
from tenants.models import Tenant

from .models import ApiKey, KeyReminder
from .services import key_disable

# The PostgreSQL advisory lock of the run: b"KHYGIENE" read as a 64-bit integer.
LOCK_KEY = 0x4B48_5947_4945_4E45


@dataclass
class Notice:
    key: ApiKey
    kind: str  # expiry, renew_by, dormant, disabled
    due_at: datetime
    days_before: int

    def record(self) -> KeyReminder:
        return KeyReminder(key=self.key, kind=self.kind, due_at=self.due_at, days_before=self.days_before)


@dataclass
class HygieneReport:
    reminders: int = 0
    expired: int = 0
    dormant_warnings: int = 0
    disabled: int = 0
    mails: int = 0

    def __str__(self) -> str:
        return (
            f"{self.reminders} reminders, {self.expired} keys expired, {self.dormant_warnings} dormant warnings, "
            f"{self.disabled} dormant keys disabled, {self.mails} mails"
        )


def _sent(notices: list[Notice]) -> set[tuple]:
    if not notices:
        return set()
    return set(
        KeyReminder.objects.filter(key__in=[n.key for n in notices]).values_list(
            "key_id", "kind", "due_at", "days_before"
        )
    )


def _deadline_notices(now: datetime, report: HygieneReport) -> list[Notice]:
    days = settings.KEY_REMINDER_DAYS
    horizon = now + timedelta(days=max(days)) if days else now
    keys = ApiKey.objects.filter(disabled_at__isnull=True).select_related("tenant")
    candidates: list[Notice] = []
    for key in keys.filter(Q(expires_at__lte=horizon) | Q(renew_by__lte=horizon)).order_by("tenant_id", "name"):
        for kind, due in (("expiry", key.expires_at), ("renew_by", key.renew_by)):
            if due is None or due > horizon:
                continue
            if due <= now:
                candidates.append(Notice(key, "expired", due, 0))
                continue
            reached = [day for day in days if due - timedelta(days=day) <= now]
            candidates.append(Notice(key, kind, due, min(reached)))
    sent = _sent(candidates)
    fresh = [n for n in candidates if (n.key.pk, n.kind, n.due_at, n.days_before) not in sent]
    for notice in fresh:
        if notice.kind == "expired":
            activity_record(
                tenant=notice.key.tenant,
                action=Action.KEY_EXPIRED,
                audit=SYSTEM,
                key=notice.key,
                details={"at": notice.due_at.isoformat()},
            )
            report.expired += 1
        else:
            report.reminders += 1
    return fresh


def _dormant_notices(now: datetime, report: HygieneReport) -> list[Notice]:
    notices: list[Notice] = []
    for tenant in Tenant.objects.filter(dormant_disable_after_days__isnull=False):
        unused_since = now - timedelta(days=tenant.dormant_after_days)
        dormant = (
            ApiKey.objects.filter(tenant=tenant, disabled_at__isnull=True)
            .annotate(last=Coalesce("last_used_at", "created_at"))
            .filter(last__lte=unused_since)
            .select_related("tenant")
        )
        for key in dormant:
            disable_at = key.last + timedelta(days=tenant.dormant_after_days + tenant.dormant_disable_after_days)
            if disable_at <= now:
                key_disable(key=key, audit=SYSTEM, reason=f"unused for {(now - key.last).days} days")
                notices.append(Notice(key, "disabled", disable_at, 0))
                report.disabled += 1
            else:
                notices.append(Notice(key, "dormant", disable_at, tenant.dormant_disable_after_days))
    sent = _sent(notices)
    fresh = [n for n in notices if n.kind == "disabled" or (n.key.pk, n.kind, n.due_at, n.days_before) not in sent]
    report.dormant_warnings += sum(n.kind == "dormant" for n in fresh)
    return fresh


def _mail(tenant: Tenant, notices: list[Notice], now: datetime) -> bool:
    """The tenant's digest to its admins (notifications: those who have not turned it off)."""
    groups = {
        kind: [n for n in notices if n.kind == kind]
        for kind in ("expired", "expiry", "renew_by", "dormant", "disabled")
    }
    count = len(notices)

    def subject() -> str:  # called in each recipient's language (notifications.services)
        return ngettext(
            "%(count)d key of %(tenant)s needs attention", "%(count)d keys of %(tenant)s need attention", count
        ) % {"count": count, "tenant": tenant.name}

    context = {"now": now, **groups}
    template = "apikeys/email/key_hygiene"
    return bool(
        notify_tenant_admins(tenant=tenant, kind=KEY_HYGIENE, context=context, template=template, subject=subject)
    )


def hygiene_run(*, now: datetime | None = None) -> HygieneReport | None:
    """The run's work, or None (nothing done) if another run holds the lock."""
    with run_alone("key_hygiene", LOCK_KEY) as alone:
        return _run(now or timezone.now()) if alone else None


def _run(now: datetime) -> HygieneReport:
    report = HygieneReport()
    notices = _deadline_notices(now, report) + _dormant_notices(now, report)
    by_tenant: dict[int, list[Notice]] = defaultdict(list)
    for notice in notices:
        by_tenant[notice.key.tenant_id].append(notice)
    for tenant_notices in by_tenant.values():
        tenant = tenant_notices[0].key.tenant
        if _mail(tenant, tenant_notices, now):
            report.mails += 1
        KeyReminder.objects.bulk_create(
            [n.record() for n in tenant_notices if n.kind != "disabled"], ignore_conflicts=True
        )
    return report
