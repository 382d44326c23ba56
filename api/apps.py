from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "Management API"

    def ready(self) -> None:
        # Accepting an invitation a key sent checks what the key may give now; the tenants app,
        # below the keys and the API, asks through the interface it defines for that.
        from tenants.grants import register_key_powers

        from .grants import key_powers_now

        register_key_powers(key_powers_now)
