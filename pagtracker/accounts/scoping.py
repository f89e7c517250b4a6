"""The admin's one scoping rule: a merchant's staff see and change only their merchant's
objects; back-office staff (no merchant, or superusers) see everything.

Every app's ``ModelAdmin`` that shows merchant data inherits ``MerchantScopedAdmin`` and names
the path from its model to the merchant in ``merchant_field``."""

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest


def is_back_office(request: HttpRequest) -> bool:
    user = request.user
    return bool(
        user.is_active
        and user.is_staff
        and (user.is_superuser or getattr(user, "merchant_id", None) is None)
    )


def merchant_staff_id(request: HttpRequest) -> Any:
    user = request.user
    if user.is_active and user.is_staff and not is_back_office(request):
        return getattr(user, "merchant_id", None)
    return None


class MerchantScopedAdmin(admin.ModelAdmin):
    merchant_field = "merchant"
    # What a merchant's staff may do without Django model permissions.
    merchant_staff_can: frozenset[str] = frozenset({"view"})

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if is_back_office(request):
            return queryset
        merchant_id = merchant_staff_id(request)
        if merchant_id is None:
            return queryset.none()
        return queryset.filter(**{self.merchant_field: merchant_id})

    def _owns(self, request: HttpRequest, obj: Model | None) -> bool:
        if obj is None:
            return True
        merchant_id = merchant_staff_id(request)
        return self.get_queryset(request).filter(pk=obj.pk).exists() if merchant_id else False

    def _allowed(self, request: HttpRequest, action: str, obj: Model | None) -> bool:
        if is_back_office(request):
            return (
                getattr(super(), f"has_{action}_permission")(request, obj)
                if obj is not None
                else getattr(super(), f"has_{action}_permission")(request)
            )
        if merchant_staff_id(request) is None or action not in self.merchant_staff_can:
            return False
        return self._owns(request, obj)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return (is_back_office(request) and super().has_module_permission(request)) or (
            merchant_staff_id(request) is not None
        )

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request, "view", obj) or self._allowed(request, "change", obj)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request, "change", obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        if is_back_office(request):
            return super().has_add_permission(request, *args)
        return merchant_staff_id(request) is not None and "add" in self.merchant_staff_can

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request, "delete", obj)

    def get_list_filter(self, request: HttpRequest) -> Any:
        filters = list(super().get_list_filter(request))
        if is_back_office(request) and self.merchant_field == "merchant":
            filters.insert(0, "merchant")
        return filters

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        merchant_id = merchant_staff_id(request)
        if merchant_id is not None:
            related = db_field.remote_field.model
            if related._meta.label == "accounts.Merchant":
                kwargs["queryset"] = related.objects.filter(pk=merchant_id)
            elif any(f.name == "merchant" for f in related._meta.get_fields()):
                kwargs["queryset"] = related.objects.filter(merchant_id=merchant_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        merchant_id = merchant_staff_id(request)
        if merchant_id is not None and self.merchant_field == "merchant":
            obj.merchant_id = merchant_id
        super().save_model(request, obj, form, change)


class ReadOnlyInline(admin.TabularInline):
    """History shown on a parent's page (events, attempts, ledger entries): never edited."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return True
