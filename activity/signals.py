"""What the activity log tells the layers above it. It knows none of them: they connect here."""

from django.dispatch import Signal

# Sent with `entry` (the ActivityEntry just written), inside the recording transaction.
activity_recorded = Signal()
