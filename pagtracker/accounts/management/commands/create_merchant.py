import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from pagtracker.accounts import services
from pagtracker.accounts.models import Plan
from pagtracker.errors import DomainError


class Command(BaseCommand):
    help = "Create a merchant and its owner user (CONTRACT §8)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--nome", default="")
        parser.add_argument("--empresa", default="")
        parser.add_argument("--plano", default=Plan.BASICO, choices=Plan.values)
        parser.add_argument("--chave-pix", dest="chave_pix", default="")
        parser.add_argument("--cidade", default="")
        parser.add_argument(
            "--json",
            action="store_true",
            help='print only {"id", "email", "api_key"} (a fresh sandbox key)',
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = services.merchant_create(
                email=options["email"],
                password=options["password"],
                nome=options["nome"],
                empresa=options["empresa"],
                plano=options["plano"],
                chave_pix=options["chave_pix"],
                cidade=options["cidade"],
            )
            issued = services.api_key_create(user=user, descricao="create_merchant")
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {"id": str(user.merchant_id), "email": user.email, "api_key": issued.raw_key}
                )
            )
            return
        self.stdout.write(f"Merchant {user.merchant_id} created for {user.email}")
        self.stdout.write(f"Sandbox API key (shown once): {issued.raw_key}")
