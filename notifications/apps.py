from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"

    def ready(self) -> None:
        from accounts.page import my_account_contribute

        from .services import preferences_for

        my_account_contribute("notifications", lambda user: {"notification_preferences": preferences_for(user)})
