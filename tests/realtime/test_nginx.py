"""The production layout end to end: nginx (Debian's package) with the sample config
deploy/nginx.conf, TLS, in front of two server processes; a charge, its payment and the
socket push all go through nginx. The processes share the database and reach each other's
sockets through Redis, as in production."""

import asyncio
import datetime
import http.client
import ipaddress
import json
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import time
import uuid
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import django
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from websockets.asyncio.client import connect

from tests.conftest import ROOT

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SAMPLE = ROOT / "deploy" / "nginx.conf"

pytestmark = [
    pytest.mark.server,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(NGINX), reason="needs nginx (apt install nginx)"),
]


# -- certificates: a CA, the site's certificate, and a client certificate (the PSP's) -----------


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def issue(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Certificate | None,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool = False,
    server: bool = False,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
        )
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    elif not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def write_pem(path: Path, cert: x509.Certificate, key: Any = None) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    if key is not None:
        path.with_suffix(".key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )


def make_certificates(directory: Path) -> dict[str, Path]:
    ca_key = new_key()
    ca = issue("PagTracker test CA", ca_key, None, ca_key, ca=True)
    site_key, psp_key = new_key(), new_key()
    paths = {name: directory / f"{name}.pem" for name in ("ca", "site", "psp")}
    write_pem(paths["ca"], ca)
    write_pem(paths["site"], issue("127.0.0.1", site_key, ca, ca_key, server=True), site_key)
    write_pem(paths["psp"], issue("psp client", psp_key, ca, ca_key), psp_key)
    return paths


# -- nginx with the sample config -----------------------------------------------------------------


def render_sample(replacements: dict[str, str]) -> str:
    """The sample config with its example values replaced; each must be in it exactly once, so
    a change to the sample that this test no longer covers fails here."""
    text = SAMPLE.read_text()
    for old, new in replacements.items():
        assert text.count(old) == 1, f"{old!r} is not once in {SAMPLE}"
        text = text.replace(old, new)
    return text


class Nginx:
    def __init__(self, prefix: Path, site: str) -> None:
        self.prefix = prefix
        (prefix / "logs").mkdir(parents=True)
        (prefix / "site.conf").write_text(site)
        # As root, nginx would run its workers as "nobody", who can't read the test's files.
        user = f"user {pwd.getpwuid(os.getuid()).pw_name};" if os.getuid() == 0 else ""
        temp = "\n".join(
            f"    {kind}_temp_path {prefix / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (prefix / "nginx.conf").write_text(
            f"""{user}
daemon off;
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "logs" / "error.log"} warn;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    access_log {prefix / "logs" / "access.log"};
{temp}
    include {prefix / "site.conf"};
}}
"""
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, port: int) -> None:
        argv = [NGINX, "-p", str(self.prefix), "-c", str(self.prefix / "nginx.conf")]
        check = subprocess.run(
            [*argv, "-e", str(self.prefix / "logs" / "error.log"), "-t"],
            capture_output=True,
            text=True,
        )
        assert check.returncode == 0, check.stderr
        self.process = subprocess.Popen(
            [*argv, "-e", str(self.prefix / "logs" / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.error_log()
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.05)
        raise AssertionError(f"nginx never listened:\n{self.error_log()}")

    def error_log(self) -> str:
        path = self.prefix / "logs" / "error.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful stop
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def layout(tmp_path: Path, start_server: Any, redis_url: str) -> Iterator[dict[str, Any]]:
    env = {
        "REDIS_URL": redis_url,
        "CHANNEL_PREFIX": f"rt-test-{uuid.uuid4().hex[:8]}",
        "SERVE_STATIC": "false",
    }
    servers = [start_server(extra_env=env), start_server(extra_env=env)]
    certs = make_certificates(tmp_path)
    http_port, https_port = free_port(), free_port()
    admin_static = Path(django.__file__).parent / "contrib" / "admin" / "static"
    site = render_sample(
        {
            "    server 127.0.0.1:8001;\n    server 127.0.0.1:8002;\n": "".join(
                f"    server 127.0.0.1:{server.port};\n" for server in servers
            ),
            "listen 80;": f"listen 127.0.0.1:{http_port};",
            "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
            "/etc/letsencrypt/live/pagtracker.example.com/fullchain.pem": str(certs["site"]),
            "/etc/letsencrypt/live/pagtracker.example.com/privkey.pem": str(
                certs["site"].with_suffix(".key")
            ),
            "/etc/nginx/psp/efi-ca.pem": str(certs["ca"]),
            "/srv/pagtracker/app/staticfiles/": f"{admin_static}/",
        }
    )
    nginx = Nginx(tmp_path / "nginx", site)
    try:
        nginx.start(https_port)
        yield {
            "servers": servers,
            "http_port": http_port,
            "https_port": https_port,
            "certs": certs,
            "nginx": nginx,
        }
    finally:
        nginx.stop()


def tls_context(certs: dict[str, Path], *, client: bool = False) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(certs["ca"]))
    if client:
        context.load_cert_chain(str(certs["psp"]), str(certs["psp"].with_suffix(".key")))
    return context


def request(
    layout: dict[str, Any],
    method: str,
    path: str,
    *,
    key: str = "",
    body: Any = None,
    client_cert: bool = False,
) -> tuple[int, Message, bytes]:
    conn = http.client.HTTPSConnection(
        "127.0.0.1",
        layout["https_port"],
        context=tls_context(layout["certs"], client=client_cert),
        timeout=15,
    )
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    try:
        conn.request(method, path, None if body is None else json.dumps(body), headers)
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def test_a_charge_its_payment_and_the_socket_push_go_through_nginx(
    layout, make_merchant, api_key_for
):
    key = api_key_for(make_merchant())
    status, _, body = request(layout, "POST", "/api/charges", key=key, body={"valor": 19.9})
    assert status == 201, body
    charge = json.loads(body)["data"]
    code = charge["link_pagamento"].rsplit("/", 1)[1]
    url = f"wss://127.0.0.1:{layout['https_port']}/ws/payments/{code}/"

    async def scenario() -> dict[str, Any]:
        async with connect(url, ssl=tls_context(layout["certs"])) as ws:
            frames = [json.loads(await asyncio.wait_for(ws.recv(), 15)) for _ in range(2)]
            assert [f["type"] for f in frames] == ["CONNECTION_ESTABLISHED", "PAYMENT_STATUS"]
            status, _, reply = await asyncio.to_thread(
                request, layout, "POST", f"/api/sandbox/charges/{charge['id']}/pay", key=key
            )
            assert status == 200, reply
            return json.loads(await asyncio.wait_for(ws.recv(), 15))

    pushed = asyncio.run(scenario())
    assert pushed["type"] == "PAYMENT_CONFIRMED"
    assert pushed["payload"]["status"] == "pago"


def test_nginx_spreads_requests_over_both_processes_and_serves_the_rest_itself(layout):
    for _ in range(6):
        status, _, _ = request(layout, "GET", "/health")
        assert status == 200
    for server in layout["servers"]:  # each process's access log
        assert "GET /health" in server.log.read_text()

    status, headers, body = request(layout, "GET", "/static/admin/css/base.css")
    assert status == 200 and headers["Content-Type"] == "text/css" and body

    plain = http.client.HTTPConnection("127.0.0.1", layout["http_port"], timeout=10)
    plain.request("GET", "/api/charges")
    response = plain.getresponse()
    assert response.status == 301
    assert response.getheader("Location", "").startswith("https://")
    plain.close()


def test_the_psp_webhook_path_needs_the_psps_client_certificate(layout):
    status, _, _ = request(layout, "POST", "/psp/efi/pix", body={})
    assert status == 403  # refused by nginx: no client certificate
    status, headers, _ = request(layout, "POST", "/psp/efi/pix", body={}, client_cert=True)
    assert status != 403
    assert "X-Request-Id" in headers  # answered by the application behind nginx
