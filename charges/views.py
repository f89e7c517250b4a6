"""The hosted payment page (``link_pagamento``): public, addressed by the charge's
unguessable public code."""

import base64

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from pagtracker.api.errors import error_body
from pagtracker.api.fields import iso_utc
from pagtracker.errors import DomainError

from . import selectors, services
from .models import Charge, ChargeStatus

TITLES = {
    ChargeStatus.PENDENTE: "Pague com Pix",
    ChargeStatus.PAGO: "Pagamento confirmado",
    ChargeStatus.EXPIRADO: "Cobrança expirada",
    ChargeStatus.CANCELADO: "Cobrança cancelada",
    ChargeStatus.REEMBOLSADO: "Pagamento reembolsado",
}


def _charge_or_404(public_code: str) -> Charge:
    charge = selectors.charge_by_public_code(public_code=public_code)
    if charge is None:
        raise Http404
    return charge


def charge_status_payload(charge: Charge) -> dict[str, object]:
    return {
        "status": charge.status,
        "valor": charge.amount_cents / 100,
        "paid_at": iso_utc(charge.paid_at),
        "expires_at": iso_utc(charge.expires_at),
        "cancelled_at": iso_utc(charge.cancelled_at),
    }


@never_cache
@require_GET
def pay_page(request: HttpRequest, public_code: str) -> HttpResponse:
    charge = selectors.charge_by_public_code(public_code=public_code)
    if charge is None:
        return render(request, "charges/not_found.html", status=404)
    return render(
        request,
        "charges/pay.html",
        {
            "charge": charge,
            "merchant_name": charge.merchant.receiver_name,
            "valor": f"{charge.amount_cents / 100:,.2f}".replace(",", "X")
            .replace(".", ",")
            .replace("X", "."),
            "title": TITLES[ChargeStatus(charge.status)],
            "expires_at": iso_utc(charge.expires_at),
            "sandbox": charge.provider == "sandbox",
        },
    )


@never_cache
@require_GET
def pay_status(request: HttpRequest, public_code: str) -> JsonResponse:
    return JsonResponse(charge_status_payload(_charge_or_404(public_code)))


@require_GET
def pay_qr_png(request: HttpRequest, public_code: str) -> HttpResponse:
    charge = _charge_or_404(public_code)
    png = base64.b64decode(charge.qr_code_image.split(",", 1)[1])
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "public, max-age=86400, immutable"
    return response


@require_POST
def pay_with_wallet(request: HttpRequest, public_code: str) -> JsonResponse:
    """The sandbox wallet form of the hosted page: card number and PIN."""
    charge = _charge_or_404(public_code)
    if charge.provider != "sandbox":
        raise Http404
    try:
        services.sandbox_wallet_pay(
            public_code=public_code,
            card_number=request.POST.get("card_number", ""),
            pin=request.POST.get("pin", ""),
        )
    except DomainError as exc:
        return JsonResponse(error_body(exc.code, exc.message, exc.details), status=exc.status)
    charge.refresh_from_db()
    return JsonResponse(charge_status_payload(charge))
