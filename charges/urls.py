from django.urls import path

from . import apis

urlpatterns = [
    path("charges", apis.ChargeListCreateView.as_view()),
    path("charges/<uuid:charge_id>", apis.ChargeDetailView.as_view()),
    path("charges/<uuid:charge_id>/refund", apis.ChargeRefundView.as_view()),
    path("balance", apis.BalanceView.as_view()),
    path("sandbox/charges/<uuid:charge_id>/pay", apis.SandboxPayView.as_view()),
]
