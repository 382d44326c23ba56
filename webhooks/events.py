"""The event types a webhook endpoint can subscribe to, and the activity-log actions
(activity.models.Action values) each comes from."""

from dataclasses import dataclass


@dataclass(frozen=True)
class EventType:
    code: str  # the payload's "type"
    label: str
    actions: tuple[str, ...]  # activity.models.Action values that emit it


EVENT_TYPES: tuple[EventType, ...] = (
    EventType("key.created", "Key created", ("key.created",)),
    EventType("key.renewed", "Key renewed", ("key.renewed",)),
    EventType("key.secret_retired", "Old secret retired", ("secret.retired",)),
    EventType("key.deleted", "Key deleted", ("key.deleted",)),
    EventType("key.disabled", "Key disabled", ("key.disabled",)),
    EventType("key.enabled", "Key enabled again", ("key.enabled",)),
    EventType("key.expired", "Key expired", ("key.expired",)),
    EventType("key.leaked", "Secret reported leaked", ("secret.leaked",)),
    EventType("key.secret_revealed", "Secret revealed or copied", ("secret.revealed", "secret.copied")),
)
BY_CODE = {event.code: event for event in EVENT_TYPES}
BY_ACTION = {action: event for event in EVENT_TYPES for action in event.actions}
TEST_EVENT = "webhook.test"  # sent by the "Send test event" button, to one endpoint
