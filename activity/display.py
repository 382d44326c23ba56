"""Activity details as short readable lines for the activity page, in the reader's language: the
entry keeps codes and values (JSON), which are put in words here, when the page is shown. Values
that came from people (names, addresses, scopes) are shown as stored."""

from typing import Any

from django.utils.translation import gettext, gettext_lazy, ngettext, pgettext_lazy

from kernel.dates import human_from_iso

from .models import Action, ActivityEntry


def grace_label(seconds: int) -> str:
    """A renewal's grace period in the words renew offers it: "1 hour", "24 hours", "7 days"
    (hours up to a day, whole days beyond). The entry keeps the seconds, not the keys app's
    labels, so the log reads the same whatever the keys app offers later."""
    if seconds % 3600 == 0 and 0 < seconds <= 86400:
        hours = seconds // 3600
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    if seconds % 86400 == 0 and seconds > 0:
        days = seconds // 86400
        return ngettext("%(count)d day", "%(count)d days", days) % {"count": days}
    return f"{seconds} s"


# Details that hold an ISO 8601 timestamp, shown like every other date in the portal.
TIMESTAMPS = {"secret_created"}
LABELS = {
    "kind": gettext_lazy("Kind"),
    "scopes": gettext_lazy("Scopes"),
    "role": gettext_lazy("Role"),
    "email": gettext_lazy("Member"),
    "secret": gettext_lazy("Which secret"),
    "secret_created": gettext_lazy("Secret created"),
    "grant": gettext_lazy("Grant"),
    "status": gettext_lazy("HTTP status"),
    "older_secret_retired": gettext_lazy("Earlier old secrets stopped now"),
    # Single sign-on (sso/).
    "mfa_from_provider": gettext_lazy("Two-factor vouched for by the provider"),
    "exempt": gettext_lazy("Break-glass admins"),
    "required": gettext_lazy("Sign-in with SSO required"),
    "proof": gettext_lazy("Proved by"),
    # The English of these is what the fallback below makes of the field's name; named here so
    # that they are translated too.
    "member": gettext_lazy("Member"),
    "from": pgettext_lazy("activity detail: a change", "From"),
    "to": pgettext_lazy("activity detail: a change", "To"),
    "code": gettext_lazy("Code"),
}


def _shown(value: Any) -> str:
    if value in (None, "", []):
        return gettext("none")
    return f"“{_value(value)}”" if isinstance(value, str) else _value(value)


def _value(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {"from", "to"}:  # a change: “before” → “after”
        return f"{_shown(value['from'])} → {_shown(value['to'])}"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or gettext("none")
    if isinstance(value, dict):
        return "; ".join(f"{name}: {_value(item)}" for name, item in value.items())
    return str(value)


def details_lines(entry: ActivityEntry) -> list[str]:
    details = dict(entry.details or {})
    lines: list[str] = []
    if entry.action == Action.KEY_RENEWED and "old_secret_stops" in details:
        stops = details.pop("old_secret_stops")
        grace = details.pop("grace_seconds", 0)
        if stops == "now":
            lines.append(gettext("Old secret stopped working at once"))
        else:
            lines.append(
                gettext("Old secret works until %(until)s (grace %(grace)s)")
                % {"until": human_from_iso(stops), "grace": grace_label(grace)}
            )
    name = details.pop("name", None)
    if isinstance(name, dict):
        lines.append(
            gettext("Renamed “%(from)s” → “%(to)s”") % {"from": name.get("from", ""), "to": name.get("to", "")}
        )
    elif name is not None and entry.action != Action.KEY_DELETED:
        lines.append(gettext("Name: %(name)s") % {"name": name})
    for field, label in (("scopes_added", gettext("Scopes added")), ("scopes_removed", gettext("Scopes removed"))):
        if field in details:
            value = details.pop(field)
            if value:
                lines.append(f"{label}: {_value(value)}")
    details.pop("client_id", None)  # shown in the key column already
    for field, value in details.items():
        if field in TIMESTAMPS:
            value = human_from_iso(value)
        lines.append(f"{LABELS.get(field, field.replace('_', ' ').capitalize())}: {_value(value)}")
    return lines
