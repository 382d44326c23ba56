from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: object) -> "User":
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: object) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> "User":
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, email: str) -> "User":
        # Logins are case-insensitive on the e-mail address.
        return self.get(email__iexact=email)


class User(AbstractUser):
    """A portal user, who logs in with an e-mail address and a password."""

    username = None  # type: ignore[assignment]
    email = models.EmailField(_("e-mail address"), unique=True)
    # An IANA name (kernel.dates.zone_names); empty: the browser's zone, else TIME_ZONE.
    time_zone = models.CharField(max_length=64, blank=True, default="")
    # One of settings.LANGUAGES for pages and mails (kernel.middleware.LanguageMiddleware);
    # empty: the browser's Accept-Language, else English.
    language = models.CharField(max_length=8, blank=True, default="", choices=settings.LANGUAGES)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()  # type: ignore[misc]

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email


class KnownDevice(models.Model):
    """A (browser family, client address) pair a user has logged in from. A login from a pair
    not seen before is mailed to the user (accounts.alerts)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="known_devices")
    browser = models.CharField(max_length=100)  # e.g. "Chrome on Linux"; never the whole user agent
    address = models.CharField(max_length=64)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "browser", "address"], name="known_device_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.browser} at {self.address}"
