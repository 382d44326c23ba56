"""Activity details as short readable lines for the activity page."""

from typing import Any

from kernel.dates import human_from_iso

from .models import Action, ActivityEntry


def grace_label(seconds: int) -> str:
    """A renewal's grace period in the words renew offers it: "1 hour", "24 hours", "7 days"
    (hours up to a day, whole days beyond). The entry keeps the seconds, not the keys app's
    labels, so the log reads the same whatever the keys app offers later."""
    if seconds % 3600 == 0 and 0 < seconds <= 86400:
        hours = seconds // 3600
        return f"{hours} hour{'s' if hours != 1 else ''}"
    if seconds % 86400 == 0 and seconds > 0:
        days = seconds // 86400
        return f"{days} days"
    return f"{seconds} s"


# Details that hold an ISO 8601 timestamp, shown like every other date in the portal.
TIMESTAMPS = {"secret_created"}
LABELS = {
    "kind": "Kind",
    "scopes": "Scopes",
    "role": "Role",
    "email": "Member",
    "secret": "Which secret",
    "secret_created": "Secret created",
    "grant": "Grant",
    "status": "HTTP status",
    "older_secret_retired": "Earlier old secrets stopped now",
    # Single sign-on (sso/).
    "mfa_from_provider": "Two-factor vouched for by the provider",
    "exempt": "Break-glass admins",
    "required": "Sign-in with SSO required",
    "proof": "Proved by",
}


def _shown(value: Any) -> str:
    if value in (None, "", []):
        return "none"
    return f"“{_value(value)}”" if isinstance(value, str) else _value(value)


def _value(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {"from", "to"}:  # a change: “before” → “after”
        return f"{_shown(value['from'])} → {_shown(value['to'])}"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "none"
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
            lines.append("Old secret stopped working at once")
        else:
            lines.append(f"Old secret works until {human_from_iso(stops)} (grace {grace_label(grace)})")
    name = details.pop("name", None)
    if isinstance(name, dict):
        lines.append(f"Renamed “{name.get('from', '')}” → “{name.get('to', '')}”")
    elif name is not None and entry.action != Action.KEY_DELETED:
        lines.append(f"Name: {name}")
    for field, label in (("scopes_added", "Scopes added"), ("scopes_removed", "Scopes removed")):
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
