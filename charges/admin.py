from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from pagtracker.accounts.scoping import MerchantScopedAdmin, ReadOnlyInline, merchant_staff_id
from pagtracker.errors import DomainError
from pagtracker.ledger.models import LedgerEntry

from . import services
from .models import Charge, ChargeEvent, PaymentNotification, Refund, SandboxWallet


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = readonly_fields = ("return_id", "amount_cents", "status", "motivo", "created_at")


class LedgerInline(ReadOnlyInline):
    model = LedgerEntry
    fields = readonly_fields = ("kind", "amount_cents", "description", "created_at")


class EventInline(ReadOnlyInline):
    model = ChargeEvent
    fields = readonly_fields = ("type", "data", "created_at")


class PaymentInline(ReadOnlyInline):
    model = PaymentNotification
    fields = readonly_fields = ("end_to_end_id", "amount_cents", "outcome", "source", "paid_at")


@admin.register(Charge)
class ChargeAdmin(MerchantScopedAdmin):
    merchant_staff_can = frozenset({"view", "change"})
    list_display = [
        "txid",
        "valor",
        "status",
        "cliente_nome",
        "created_at",
        "paid_at",
        "expires_at",
    ]
    list_filter = ["status", "provider", ("created_at", admin.DateFieldListFilter)]
    search_fields = [
        "txid",
        "id",
        "public_code",
        "end_to_end_id",
        "cliente__nome",
        "cliente__email",
        "cliente__documento",
        "descricao",
    ]
    date_hierarchy = "created_at"
    inlines = [PaymentInline, RefundInline, LedgerInline, EventInline]
    actions = ["cancel_charges", "refund_charges"]
    exclude = ["qr_code_image", "split_snapshot"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [f.name for f in Charge._meta.fields if f.name not in self.exclude]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # charges are created through the API

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # money history is never deleted

    @admin.display(description="valor", ordering="amount_cents")
    def valor(self, charge: Charge) -> str:
        return f"R$ {charge.amount_cents / 100:.2f}"

    @admin.display(description="cliente")
    def cliente_nome(self, charge: Charge) -> str:
        return (charge.cliente or {}).get("nome", "")

    @admin.action(description="Cancelar as cobranças pendentes selecionadas")
    def cancel_charges(self, request: HttpRequest, queryset: QuerySet[Charge]) -> None:
        self._each(
            request,
            queryset,
            lambda c: services.charge_cancel(merchant_id=c.merchant_id, charge_id=c.pk),
            "cancelada(s)",
        )

    @admin.action(description="Reembolsar integralmente as cobranças pagas selecionadas")
    def refund_charges(self, request: HttpRequest, queryset: QuerySet[Charge]) -> None:
        self._each(
            request,
            queryset,
            lambda c: services.charge_refund(
                merchant_id=c.merchant_id, charge_id=c.pk, motivo="admin"
            ),
            "reembolsada(s)",
        )

    def _each(
        self, request: HttpRequest, queryset: QuerySet[Charge], action: Any, verb: str
    ) -> None:
        done = 0
        for charge in queryset:
            try:
                action(charge)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{charge.txid}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(request, f"{done} cobrança(s) {verb}.", messages.SUCCESS)


class SandboxWalletForm(forms.ModelForm):
    new_pin = forms.CharField(
        label="PIN",
        required=False,
        min_length=4,
        max_length=6,
        widget=forms.PasswordInput(render_value=False),
        help_text="4 a 6 dígitos. Deixe em branco para manter.",
    )

    class Meta:
        model = SandboxWallet
        fields = ["merchant", "holder_name", "card_number", "balance_cents", "pin_limit_cents"]

    def clean_new_pin(self) -> str:
        pin = self.cleaned_data.get("new_pin") or ""
        if pin and not pin.isdigit():
            raise forms.ValidationError("O PIN tem só dígitos.")
        if not pin and not self.instance.pin:
            raise forms.ValidationError("Defina o PIN da carteira.")
        return pin


@admin.register(SandboxWallet)
class SandboxWalletAdmin(MerchantScopedAdmin):
    merchant_staff_can = frozenset({"view", "change", "add", "delete"})
    form = SandboxWalletForm
    list_display = ["holder_name", "card_number", "balance_cents", "pin_limit_cents", "merchant"]
    search_fields = ["holder_name", "card_number"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if merchant_staff_id(request) is not None and "merchant" in form.base_fields:
            form.base_fields["merchant"].required = False
            form.base_fields["merchant"].disabled = True
        return form

    def save_model(self, request: HttpRequest, obj: SandboxWallet, form: Any, change: bool) -> None:
        from django.contrib.auth.hashers import make_password

        pin = form.cleaned_data.get("new_pin")
        if pin:
            obj.pin = make_password(pin)
        super().save_model(request, obj, form, change)


@admin.register(PaymentNotification)
class PaymentNotificationAdmin(MerchantScopedAdmin):
    merchant_field = "charge__merchant"
    list_display = ["end_to_end_id", "txid", "amount_cents", "outcome", "source", "paid_at"]
    list_filter = ["outcome", "source"]
    search_fields = ["end_to_end_id", "txid"]
    readonly_fields = [f.name for f in PaymentNotification._meta.fields]
