"""The pages that listen: the hosted payment page and the admin's charge list, in a real
headless Chromium against a real server."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from .test_server import http, new_charge

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
TIMEOUT_MS = 15_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.server,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"needs a system Chromium at {CHROMIUM}"),
]


class PageWatch:
    """JS exceptions and console errors of a page (a failed socket shows up there)."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on(
            "console",
            lambda msg: (
                self.errors.append(f"console: {msg.text}")
                # a favicon's 404 is no concern of ours
                if msg.type == "error" and not msg.text.startswith("Failed to load resource")
                else None
            ),
        )


@contextmanager
def page() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            tab = browser.new_page()
            tab.set_default_timeout(TIMEOUT_MS)
            yield tab
        finally:
            browser.close()


def test_hosted_page_follows_the_socket_without_polling(make_merchant, api_key_for, start_server):
    from playwright.sync_api import expect

    server = start_server()
    key = api_key_for(make_merchant())
    charge = new_charge(server, key)
    with page() as tab:
        watch = PageWatch(tab)
        polled: list[str] = []
        tab.on("request", lambda r: polled.append(r.url) if r.url.endswith("/status") else None)
        tab.goto(charge["link_pagamento"])
        expect(tab.locator("#charge")).to_have_attribute("data-live", "socket")
        status, _ = http(server, "POST", f"/api/sandbox/charges/{charge['id']}/pay", key, {})
        assert status == 200
        expect(tab.locator("#status")).to_have_text("Pago")
        expect(tab.locator("#title")).to_have_text("Pagamento confirmado")
        expect(tab.locator("#pending-block")).to_be_hidden()
        assert polled == [], "the page polled although its socket was up"
        assert not watch.errors, watch.errors


def test_admin_charge_list_updates_live_for_the_merchants_staff(
    make_merchant, api_key_for, start_server
):
    from playwright.sync_api import expect

    server = start_server()
    user = make_merchant()
    key = api_key_for(user)
    get_user_model().objects.create_user(
        "caixa@example.com", "staff password 123", merchant=user.merchant, is_staff=True
    )
    charge = new_charge(server, key)
    with page() as tab:
        watch = PageWatch(tab)
        tab.goto(f"{server.url}/admin/login/?next=/admin/charges/charge/")
        tab.fill("#id_username", "caixa@example.com")
        tab.fill("#id_password", "staff password 123")
        tab.click("input[type=submit]")
        expect(tab.locator("#changelist")).to_have_attribute("data-live", "socket")
        row = tab.locator(f"tr:has(input.action-select[value='{charge['id']}'])")
        expect(row.locator("td.field-status")).to_have_text("Pendente")
        status, _ = http(server, "POST", f"/api/sandbox/charges/{charge['id']}/pay", key, {})
        assert status == 200
        expect(row.locator("td.field-status")).to_have_text("Pago")
        expect(row).to_have_attribute("data-status", "pago")
        tab.evaluate("window.__marker = 1")
        # A charge that is not on the page shows a notice instead of a silent miss.
        other = new_charge(server, key)
        http(server, "DELETE", f"/api/charges/{other['id']}", key)
        expect(tab.locator("#realtime-notice")).to_be_visible()
        assert tab.evaluate("window.__marker") == 1
        assert not watch.errors, watch.errors
