from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from pagtracker.accounts.scoping import MerchantScopedAdmin

from .models import LedgerEntry


@admin.register(LedgerEntry)
class LedgerEntryAdmin(MerchantScopedAdmin):
    list_display = ["created_at", "kind", "amount_cents", "description", "merchant"]
    list_filter = ["kind"]
    search_fields = ["description", "reference_id"]
    readonly_fields = [f.name for f in LedgerEntry._meta.fields]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # append-only: entries come from the services that move money

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
