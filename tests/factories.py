"""Factories for the models tests need ready-made. They build through the services, so a
factory-made merchant or wallet is exactly what the API and the admin would have created
(hashed password, merchant profile, hashed PIN), never a row the product could not produce."""

import os
from typing import Any

import factory

from charges.models import SandboxWallet
from charges.services import sandbox_wallet_create
from pagtracker.accounts import services as account_services
from pagtracker.accounts.models import User


class MerchantFactory(factory.Factory):
    """A merchant's owner (``User``) with its merchant profile, through ``merchant_create``."""

    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"merchant{n}-{os.getpid()}@example.com")
    password = "correct horse battery"
    nome = factory.Sequence(lambda n: f"Loja {n}")
    empresa = factory.LazyAttribute(lambda o: f"{o.nome} LTDA")
    chave_pix = "123e4567-e12b-12d1-a456-426655440000"
    cidade = "Sao Paulo"
    plano = "empresarial"

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        return account_services.merchant_create(**kwargs)


class SandboxWalletFactory(factory.Factory):
    """A sandbox test card, through ``sandbox_wallet_create``; give it ``merchant``."""

    class Meta:
        model = SandboxWallet

    holder_name = "Pagador"
    card_number = "4000 0000 0000 0002"
    pin = "1234"
    balance_cents = 10_000
    pin_limit_cents = 5_000

    @classmethod
    def _create(cls, model_class: type[SandboxWallet], *args: Any, **kwargs: Any) -> SandboxWallet:
        return sandbox_wallet_create(**kwargs)
