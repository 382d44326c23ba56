from django.conf import settings
from django.db import models
from django.utils import timezone


class OptOut(models.Model):
    """A user who does not want mails of one kind (notifications.kinds). No row: they get them."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_opt_outs")
    kind = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notification_optout_unique")]

    def __str__(self) -> str:
        return f"{self.user} opted out of {self.kind}"
