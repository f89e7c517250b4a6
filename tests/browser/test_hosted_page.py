"""The hosted payment page (``link_pagamento``) in a real headless Chromium against a real
server process: two "devices" open the same link, one pays with a sandbox card, the other
turns to "Pago" without a reload."""

import json
import re
import shutil
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from charges.models import Charge
from tests.factories import SandboxWalletFactory

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HUMAN_COPY = Path("/tmp/pagtracker-hosted-page.png")
TIMEOUT_MS = 15_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"needs a system Chromium at {CHROMIUM}"),
]


def create_charge(server_url: str, raw_key: str, **body: Any) -> dict[str, Any]:
    """POST /api/charges through the real server, so link_pagamento carries its URL."""
    request = urllib.request.Request(
        f"{server_url}/api/charges",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {raw_key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=15) as response:
        assert response.status == 201
        return json.loads(response.read())["data"]


class PageWatch:
    """Collects what would go unnoticed in a browser: JS exceptions, console errors and
    HTTP errors, so a failure says what the page did."""

    def __init__(self, name: str, page: Any) -> None:
        self.name = name
        self.errors: list[str] = []
        self.http_errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on(
            "console",
            lambda msg: (
                self.errors.append(f"console.{msg.type}: {msg.text} @ {msg.location}")
                if msg.type == "error" and not msg.text.startswith("Failed to load resource")
                else None
            ),
        )
        page.on(
            "response",
            lambda r: (
                self.http_errors.append(f"{r.status} {r.request.method} {r.url}")
                if r.status >= 400
                else None
            ),
        )

    def report(self) -> str:
        return f"[{self.name}] errors={self.errors} http_errors={self.http_errors}"


@contextmanager
def chromium() -> Iterator[Any]:
    """The system Chromium; Playwright's own launch gives it a fresh throwaway profile."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.mark.django_db(transaction=True)
def test_two_devices_one_pays_the_other_turns_paid_live(
    make_merchant: Callable[..., Any],
    api_key_for: Callable[[Any], str],
    start_server: Callable[..., Any],
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    server = start_server()
    user = make_merchant()
    raw_key = api_key_for(user)
    merchant_name = user.merchant.receiver_name
    wallet = SandboxWalletFactory(
        merchant=user.merchant, holder_name="Pagadora Teste", balance_cents=100_000
    )
    charge = create_charge(server.url, raw_key, valor=60.00, descricao="Pedido 42")
    link = charge["link_pagamento"]
    assert link.startswith(f"{server.url}/pay/"), link

    with chromium() as browser:
        device_a = browser.new_context(viewport={"width": 420, "height": 900}, locale="pt-BR")
        device_b = browser.new_context(viewport={"width": 420, "height": 900}, locale="pt-BR")
        device_a.set_default_timeout(TIMEOUT_MS)
        device_b.set_default_timeout(TIMEOUT_MS)
        page_a, page_b = device_a.new_page(), device_b.new_page()
        watch_a, watch_b = PageWatch("A", page_a), PageWatch("B", page_b)

        # Device A: the pending page, fully rendered.
        page_a.goto(link)
        expect(page_a.locator("#status")).to_have_text("Pendente")
        expect(page_a.locator("#charge")).to_have_attribute("data-status", "pendente")
        expect(page_a.locator(".amount")).to_have_text("R$ 60,00")
        expect(page_a.locator(".merchant")).to_have_text(merchant_name)
        page_a.wait_for_function(
            "() => { const img = document.querySelector('img.qr');"
            " return img && img.complete && img.naturalWidth > 0; }"
        )
        assert page_a.locator("#copia-e-cola").input_value() == charge["qr_code"]
        expect(page_a.locator("#countdown")).to_have_text(re.compile(r"^\d{2,}:[0-5]\d$"))
        page_a.evaluate("window.__marker = 1")
        assert not watch_a.errors, watch_a.report()

        # Device B: the same link; 60,00 is above the card's PIN limit.
        page_b.goto(link)
        expect(page_b.locator("#status")).to_have_text("Pendente")
        page_b.fill("#card_number", "4000 0000 0000 0002")
        page_b.click("#wallet-pay")
        expect(page_b.locator("#wallet-error")).to_contain_text("PIN")
        expect(page_b.locator("#status")).to_have_text("Pendente")
        page_b.fill("#pin", "1234")
        page_b.click("#wallet-pay")
        expect(page_b.locator("#status")).to_have_text("Pago")
        expect(page_b.locator("#charge")).to_have_attribute("data-status", "pago")
        expect(page_b.locator("#wallet-error")).to_have_text("")
        expect(page_b.locator("#wallet-card")).to_be_hidden()

        # Device A turns to "Pago" by itself, without a reload.
        expect(page_a.locator("#charge")).to_have_attribute("data-status", "pago")
        expect(page_a.locator("#status")).to_have_text("Pago")
        expect(page_a.locator("#title")).to_have_text("Pagamento confirmado")
        expect(page_a.locator("#pending-block")).to_be_hidden()
        expect(page_a.locator("#wallet-card")).to_be_hidden()
        expect(page_a.locator("#done-message")).to_have_text("Recebemos o seu pagamento. Obrigado!")
        assert page_a.evaluate("window.__marker") == 1, "page A was reloaded"

        shot = tmp_path / "hosted-page-paid.png"
        page_a.screenshot(path=str(shot), full_page=True)
        shutil.copyfile(shot, HUMAN_COPY)

        assert not watch_a.errors, watch_a.report()
        assert not watch_b.errors, watch_b.report()
        # The only HTTP error either device saw is the PIN refusal (and maybe a favicon).
        refusals = [
            e for e in watch_a.http_errors + watch_b.http_errors if not e.endswith("/favicon.ico")
        ]
        assert refusals == [f"422 POST {link}/wallet"], watch_a.report() + watch_b.report()
        device_a.close()
        device_b.close()

    # Back outside the browser's event loop: the ORM sees the committed payment.
    wallet.refresh_from_db()
    assert wallet.balance_cents == 100_000 - 6_000
    assert Charge.objects.get(pk=charge["id"]).status == "pago"


@pytest.mark.django_db(transaction=True)
def test_unknown_code_and_expired_charge_pages(
    make_merchant: Callable[..., Any],
    api_key_for: Callable[[Any], str],
    start_server: Callable[..., Any],
) -> None:
    from playwright.sync_api import expect

    server = start_server()
    raw_key = api_key_for(make_merchant())
    expired = create_charge(server.url, raw_key, valor=10.00)
    Charge.objects.filter(pk=expired["id"]).update(status="expirado")

    with chromium() as browser:
        page = browser.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        watch = PageWatch("unknown/expired", page)

        response = page.goto(f"{server.url}/pay/definitely-not-a-code")
        assert response is not None and response.status == 404
        expect(page.locator("h1")).to_have_text("Cobrança não encontrada")
        expect(page).to_have_title("Cobrança não encontrada")

        response = page.goto(expired["link_pagamento"])
        assert response is not None and response.status == 200
        expect(page.locator("#title")).to_have_text("Cobrança expirada")
        expect(page.locator("#status")).to_have_text("Expirado")
        expect(page.locator("#charge")).to_have_attribute("data-status", "expirado")
        expect(page.locator("#pending-block")).to_be_hidden()
        expect(page.locator("#wallet-card")).to_be_hidden()
        expect(page.locator("#done-message")).to_contain_text("O prazo para pagamento terminou")
        assert not watch.errors, watch.report()
