from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from . import services
from .models import ApiKey, Merchant, PspCredential, User
from .scoping import MerchantScopedAdmin, merchant_staff_id

admin.site.site_header = "PagTracker"
admin.site.site_title = "PagTracker"
admin.site.index_title = "Portal do lojista e backoffice"


@admin.register(Merchant)
class MerchantAdmin(MerchantScopedAdmin):
    merchant_field = "pk"
    merchant_staff_can = frozenset({"view", "change"})
    list_display = ["__str__", "plano", "chave_pix", "cidade", "provider", "created_at"]
    search_fields = ["nome", "empresa", "chave_pix", "id"]
    list_filter = ["plano", "provider"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if merchant_staff_id(request) is not None:
            return ["plano", "provider", "created_at"]
        return ["created_at"]


@admin.register(User)
class UserAdmin(MerchantScopedAdmin, DjangoUserAdmin):
    merchant_staff_can = frozenset({"view"})
    ordering = ["email"]
    list_display = ["email", "nome", "merchant", "is_staff", "is_active"]
    search_fields = ["email", "nome"]
    list_filter = ["is_staff", "is_active"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Perfil", {"fields": ("nome", "merchant")}),
        (
            "Permissões",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "nome", "merchant", "password1", "password2"),
            },
        ),
    )


@admin.register(ApiKey)
class ApiKeyAdmin(MerchantScopedAdmin):
    merchant_staff_can = frozenset({"view"})
    list_display = [
        "prefix",
        "descricao",
        "merchant",
        "livemode",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]
    search_fields = ["prefix", "descricao"]
    readonly_fields = ["prefix", "key_hash", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # keys are issued by the API, which shows the raw key once

    @admin.action(description="Revogar as chaves selecionadas")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset:
            services.api_key_revoke(merchant_id=key.merchant_id, api_key_id=key.pk)
        self.message_user(request, f"{queryset.count()} chave(s) revogada(s).", messages.SUCCESS)


@admin.register(PspCredential)
class PspCredentialAdmin(MerchantScopedAdmin):
    list_display = ["merchant", "provider", "pix_key", "sandbox", "updated_at"]
    exclude = ["client_id_encrypted", "client_secret_encrypted", "certificate_encrypted"]
    readonly_fields = ["provider", "pix_key", "sandbox", "updated_at"]
