"""A fake Twilio Messages endpoint for the benchmarks: nginx on loopback, HTTP and TLS.

nginx (Debian ``nginx-light``) runs as the current user from a generated configuration in a
temporary directory and answers ``POST /2010-04-01/Accounts/{sid}/Messages.json`` with 201 and a
realistic Message JSON (about 850 bytes). It listens three times: plain HTTP/1.1, TLS offering
HTTP/2 (ALPN ``h2`` and ``http/1.1``), and TLS offering HTTP/1.1 only. The TLS listeners use a
freshly generated self-signed CA and a server certificate for ``127.0.0.1``/``localhost``; every
client is given the CA file.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from bench._common import ACCOUNT_SID, BODY, FROM_NUMBER


def form_body(to: str) -> str:
    """The form body of a create to ``to``, as every client sends it."""
    return urlencode({"To": to, "From": FROM_NUMBER, "Body": BODY})


# A realistic Message resource as Twilio returns it on create (about 850 bytes).
MESSAGE_JSON = json.dumps(
    {
        "account_sid": ACCOUNT_SID,
        "api_version": "2010-04-01",
        "body": BODY,
        "date_created": "Thu, 24 Aug 2023 05:01:45 +0000",
        "date_sent": None,
        "date_updated": "Thu, 24 Aug 2023 05:01:45 +0000",
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": FROM_NUMBER,
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": "SM" + "fedcba9876543210" * 2,
        "status": "queued",
        "subresource_uris": {
            "media": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/SM"
            + "fedcba9876543210" * 2
            + "/Media.json"
        },
        "to": "+14152000000",
        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/SM" + "fedcba9876543210" * 2 + ".json",
    },
    separators=(", ", ": "),
)

NGINX_CONF = """\
worker_processes 1;
daemon off;
master_process on;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    default_type application/json;
    keepalive_requests 10000000;
    keepalive_timeout 3600s;
    http2_max_concurrent_streams 256;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    client_body_buffer_size 16k;
    server {{
        listen 127.0.0.1:{http_port};
        listen 127.0.0.1:{https_port} ssl http2;
        listen 127.0.0.1:{https_h1_port} ssl;
        ssl_certificate {tmp}/server.pem;
        ssl_certificate_key {tmp}/server.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:SSL:1m;
        location ~ "^/2010-04-01/Accounts/AC[0-9a-f]{{32}}/Messages\\.json$" {{
            if ($request_method != POST) {{ return 405; }}
            return 201 '{body}';
        }}
        location = /_status {{ stub_status; }}
        location = /_session {{ keepalive_timeout 0; return 200 '$ssl_session_reused'; }}
        location /_files/ {{ alias {tmp}/files/; }}
        location / {{ return 404 '{{"code": 20404, "message": "not found", "status": 404}}'; }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_certs(directory: Path) -> Path:
    """Write ca.pem, server.pem and server.key into ``directory``; returns the CA path."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "twiliocore bench CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
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
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (directory / "ca.pem").write_bytes(ca_cert.public_bytes(pem))
    (directory / "server.pem").write_bytes(cert.public_bytes(pem) + ca_cert.public_bytes(pem))
    (directory / "server.key").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (directory / "server.key").chmod(0o600)  # nginx's master reads it, nobody else
    return directory / "ca.pem"


@dataclass
class FakeTwilio:
    """A running nginx and its base URLs; ``ca`` is the CA file.

    ``https_url`` offers HTTP/2 by ALPN, ``https_h1_url`` only HTTP/1.1.
    """

    http_url: str
    https_url: str
    https_h1_url: str
    ca: Path
    tmp: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stderr is not None:
            self.process.stderr.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> FakeTwilio:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(*, unique_sids: bool = False) -> FakeTwilio:
    """Start nginx on three free loopback ports and wait until each answers.

    With ``unique_sids`` every created message gets its own SID (``SM`` + nginx's
    ``$request_id``, 32 hex digits), as a service that records SIDs needs.
    """
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(nginx):
        raise RuntimeError("nginx not found: apt-get install nginx-light")
    tmp = Path(tempfile.mkdtemp(prefix="twiliocore-bench-"))
    ca = make_certs(tmp)
    # /_session answers "r" on a TLS connection whose session was resumed, "." otherwise, and
    # closes the connection.
    # /_files/ serves tmp/files (empty; tests put files there). Started as root, nginx's
    # workers run as nobody: they may pass through tmp, not list it.
    (tmp / "files").mkdir(mode=0o755)
    tmp.chmod(0o711)
    http_port, https_port, https_h1_port = free_port(), free_port(), free_port()
    body = MESSAGE_JSON.replace("'", "\\'")
    if unique_sids:
        body = body.replace("SM" + "fedcba9876543210" * 2, "SM$request_id")
    (tmp / "nginx.conf").write_text(
        NGINX_CONF.format(
            tmp=tmp,
            http_port=http_port,
            https_port=https_port,
            https_h1_port=https_h1_port,
            body=body,
        )
    )
    proc = subprocess.Popen(
        [nginx, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-e", str(tmp / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 10
    for port in (http_port, https_port, https_h1_port):
        while True:
            if proc.poll() is not None:
                err = proc.stderr.read().decode() if proc.stderr else ""
                raise RuntimeError(f"nginx exited: {err}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    proc.kill()
                    raise RuntimeError(f"nginx did not listen on {port}") from None
                time.sleep(0.05)
    return FakeTwilio(
        http_url=f"http://127.0.0.1:{http_port}",
        https_url=f"https://127.0.0.1:{https_port}",
        https_h1_url=f"https://127.0.0.1:{https_h1_port}",
        ca=ca,
        tmp=tmp,
        process=proc,
    )


_queries = 0


def messages_path() -> str:
    return f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


def accepted_connections(server: FakeTwilio) -> int:
    """nginx's count of accepted connections so far, not counting the queries of this function.

    Each query opens one connection of its own (counted by nginx before it answers), so the
    n-th query subtracts n.
    """
    global _queries
    _queries += 1
    import urllib.request

    with urllib.request.urlopen(server.http_url + "/_status", timeout=5) as resp:
        text = resp.read().decode()
    # "Active connections: N \nserver accepts handled requests\n A H R \n..."
    return int(text.splitlines()[2].split()[0]) - _queries
