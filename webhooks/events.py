"""The event types a webhook endpoint can subscribe to, and the activity-log actions
(activity.models.Action values) each comes from."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy


@dataclass(frozen=True)
class EventType:
    code: str  # the payload's "type"
    label: str  # lazy: the reader's language
    actions: tuple[str, ...]  # activity.models.Action values that emit it


EVENT_TYPES: tuple[EventType, ...] = (
    EventType("key.created", gettext_lazy("Key created"), ("key.created",)),
    EventType("key.renewed", gettext_lazy("Key renewed"), ("key.renewed",)),
    EventType("key.secret_retired", gettext_lazy("Old secret retired"), ("secret.retired",)),
    EventType("key.deleted", gettext_lazy("Key deleted"), ("key.deleted",)),
    EventType("key.disabled", gettext_lazy("Key disabled"), ("key.disabled",)),
    EventType("key.enabled", gettext_lazy("Key enabled again"), ("key.enabled",)),
    EventType("key.expired", gettext_lazy("Key expired"), ("key.expired",)),
    EventType("key.leaked", gettext_lazy("Secret reported leaked"), ("secret.leaked",)),
    EventType("key.secret_revealed", gettext_lazy("Secret revealed or copied"), ("secret.revealed", "secret.copied")),
)
BY_CODE = {event.code: event for event in EVENT_TYPES}
BY_ACTION = {action: event for event in EVENT_TYPES for action in event.actions}
# What the add form ticks to begin with: every event but the noisy and sensitive one, a secret
# revealed or copied (it happens whenever someone reads a secret, and says who looked at which
# key); an admin who wants it ticks it. Neither the form nor the model subscribes to "all".
NOT_PRESELECTED = frozenset({"key.secret_revealed"})
PRESELECTED: tuple[str, ...] = tuple(event.code for event in EVENT_TYPES if event.code not in NOT_PRESELECTED)
TEST_EVENT = "webhook.test"  # sent by the "Send test event" button, to one endpoint
