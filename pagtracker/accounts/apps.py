from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "pagtracker.accounts"
    label = "accounts"
    verbose_name = "Contas"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from .authcache import auth_cache_clear
        from .models import ApiKey, Merchant, User

        # Any change to who a credential resolves to clears this process's auth cache.
        for model in (ApiKey, Merchant, User):
            post_save.connect(auth_cache_clear, sender=model, dispatch_uid=f"authcache-{model}")
            post_delete.connect(
                auth_cache_clear, sender=model, dispatch_uid=f"authcache-del-{model}"
            )
