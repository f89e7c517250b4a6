from django.urls import path

from . import views

# Included under /pay/ by pagtracker/urls.py.
urlpatterns = [
    path("<str:public_code>", views.pay_page, name="pay-page"),
    path("<str:public_code>/status", views.pay_status, name="pay-status"),
    path("<str:public_code>/qr.png", views.pay_qr_png, name="pay-qr"),
    path("<str:public_code>/wallet", views.pay_with_wallet, name="pay-wallet"),
]
