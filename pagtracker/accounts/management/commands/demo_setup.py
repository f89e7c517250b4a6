from typing import Any

from django.core.management.base import BaseCommand

from pagtracker.accounts import services
from pagtracker.accounts.models import User

DEMO_EMAIL = "demo@pagtracker.local"
DEMO_PASSWORD = "demo-pagtracker"


class Command(BaseCommand):
    help = "Create (once) the demo merchant and print its login and a fresh sandbox API key."

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email=DEMO_EMAIL).first()
        if user is None:
            user = services.merchant_create(
                email=DEMO_EMAIL,
                password=DEMO_PASSWORD,
                nome="Loja Demo",
                empresa="Loja Demo LTDA",
                plano="empresarial",
                chave_pix="123e4567-e12b-12d1-a456-426655440000",
                cidade="SAO PAULO",
            )
            from charges.services import sandbox_wallet_create

            assert user.merchant is not None
            sandbox_wallet_create(
                merchant=user.merchant,
                holder_name="Pagador Teste",
                card_number="4000 0000 0000 0002",
                pin="1234",
                balance_cents=1_000_000,
                pin_limit_cents=5_000,
            )
        issued = services.api_key_create(user=user, descricao="make run")
        self.stdout.write(
            "\n  Demo merchant\n"
            f"    e-mail:   {DEMO_EMAIL}\n"
            f"    password: {DEMO_PASSWORD}   (admin: /admin/, API: POST /api/auth/token)\n"
            f"    API key:  {issued.raw_key}\n"
            "    Sandbox card: 4000 0000 0000 0002, PIN 1234 (asked above R$ 50,00)\n"
        )
