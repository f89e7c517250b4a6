"""Webhooks never reach private, loopback or link-local addresses (unless allowed), checked
when a URL is registered and again, against a fresh DNS answer, on every connection."""

import ipaddress
import socket

import pytest

from webhooks import network, services
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

PRIVATE_URLS = [
    "http://127.0.0.1/h",
    "http://127.8.9.10:8080/h",
    "https://10.1.2.3/h",
    "https://172.16.0.1/h",
    "https://172.31.255.254/h",
    "https://192.168.1.1/h",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/h",
    "http://[fc00::1]/h",
    "http://[fe80::1]/h",
    "http://0.0.0.0/h",
    "http://[::]/h",
    "http://224.0.0.1/h",
    "http://100.64.0.1/h",
    "http://[::ffff:127.0.0.1]/h",
    "http://localhost:8000/h",
    "http://2130706433/h",  # 127.0.0.1 as one decimal number
]


@pytest.fixture
def private_off(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    settings.DEBUG = False
    return settings


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_registration_refuses_non_public_addresses(api, private_off, url):
    response = api.post(
        "/api/webhooks", {"url": url, "eventos": ["payment.created"]}, format="json"
    )
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert "public addresses" in error["details"]["url"][0]
    assert WebhookEndpoint.objects.count() == 0


def test_a_public_address_is_accepted_with_the_policy_on(api, private_off):
    response = api.post(
        "/api/webhooks",
        {"url": "https://93.184.216.34/hooks", "eventos": ["payment.created"]},
        format="json",
    )
    assert response.status_code == 201


def test_a_host_with_any_private_address_is_refused(api, private_off, monkeypatch):
    real = socket.getaddrinfo

    def fake(host, *args, **kwargs):
        if host == "mixed.example":
            return [
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 443)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", 443)),
            ]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    response = api.post(
        "/api/webhooks",
        {"url": "https://mixed.example/h", "eventos": ["payment.created"]},
        format="json",
    )
    assert response.status_code == 422
    assert "10.0.0.7" in response.json()["error"]["details"]["url"][0]


def test_an_unresolvable_host_is_refused_with_the_policy_on(api, private_off, monkeypatch):
    def fake(host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    response = api.post(
        "/api/webhooks",
        {"url": "https://nx.example/h", "eventos": ["payment.created"]},
        format="json",
    )
    assert response.status_code == 422
    assert "could not be resolved" in response.json()["error"]["details"]["url"][0]


@pytest.mark.parametrize(
    "address, public",
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("172.16.0.1", False),
        ("192.168.0.1", False),
        ("169.254.169.254", False),
        ("0.0.0.0", False),
        ("255.255.255.255", False),
        ("240.0.0.1", False),
        ("::1", False),
        ("::", False),
        ("fc00::1", False),
        ("fe80::1", False),
        ("ff02::1", False),
        ("::ffff:10.0.0.1", False),
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
    ],
)
def test_address_classes(address, public):
    assert (network.address_refusal(ipaddress.ip_address(address)) is None) is public


def test_send_time_check_refuses_without_connecting(
    api, create_webhook, receiver, settings, monkeypatch
):
    # Registered while allowed (as in development), then the policy is on: the send is refused
    # before any connection, and the refusal is recorded as the attempt's error.
    hook = create_webhook(url=receiver.url)
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    settings.DEBUG = False
    connects = []
    real_create_connection = socket.create_connection
    monkeypatch.setattr(
        socket,
        "create_connection",
        lambda *a, **k: connects.append(a) or real_create_connection(*a, **k),
    )
    response = api.post(f"/api/webhooks/{hook['id']}/test", {}, format="json")
    assert response.status_code == 502
    attempt = response.json()["error"]["details"]["attempt"]
    assert "blocked" in attempt["erro"] and "loopback" in attempt["erro"]
    # And a real delivery of a domain event: refused, recorded, retried later.
    api.post("/api/charges", {"valor": 10}, format="json")
    assert services.webhook_deliveries_send() == 1
    delivery = WebhookDelivery.objects.get(event__name="payment.created")
    assert delivery.status == "pending" and delivery.attempts == 1
    [attempt] = WebhookAttempt.objects.filter(delivery=delivery)
    assert attempt.error.startswith("blocked:") and attempt.status_code is None
    assert receiver.requests == [] and connects == []


def test_dns_is_resolved_once_and_the_checked_address_is_the_one_connected(
    api, create_webhook, receiver, monkeypatch
):
    # The first answer is the receiver; any later lookup would answer an address that does
    # not listen. The request still arrives, with the URL's host name in Host.
    port = int(receiver.url.rsplit(":", 1)[1].split("/")[0])
    hook = create_webhook(url=f"http://rebind.example:{port}/hooks")
    lookups = []

    real = socket.getaddrinfo

    def fake(host, *args, **kwargs):
        if host != "rebind.example":
            return real(host, *args, **kwargs)  # numeric: create_connection's own lookup
        lookups.append(host)
        address = "127.0.0.1" if len(lookups) == 1 else "127.0.0.2"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    response = api.post(f"/api/webhooks/{hook['id']}/test", {}, format="json")
    assert response.json()["data"]["resultado"] == "success"
    assert lookups == ["rebind.example"]
    assert receiver.requests[0].headers["host"] == f"rebind.example:{port}"


def test_unix_sockets_are_never_used():
    with pytest.raises(network.BlockedAddressError):
        network.GuardedNetworkBackend().connect_unix_socket("/var/run/docker.sock")
