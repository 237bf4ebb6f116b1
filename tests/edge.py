"""The shipped reverse proxy, run for tests: Debian's nginx with ``ops/nginx/pupiltrack.conf``
(its placeholders filled in: free ports on 127.0.0.1, a throwaway certificate, the upstream under
test) inside an ``http { }`` that repeats Debian's own http-level TLS line, which the shipped
server blocks must override. Beside it, on a port of its own, an old-fashioned server offering
only TLS 1.0 and 1.1: it shows that the test's clients can speak those, so that a refusal by
the shipped configuration is nginx's and not the client's. Tests using it are skipped, saying
why, where nginx is missing."""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings

from tests.helpers import free_port, process_stop

REPO_ROOT = Path(__file__).resolve().parents[1]
SHIPPED = REPO_ROOT / "ops" / "nginx" / "pupiltrack.conf"
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.path.exists(p)), None)
needs_nginx = pytest.mark.skipif(NGINX is None, reason="no nginx on this machine (apt-get install nginx; .ci/run installs it)")

_PLACEHOLDER = re.compile(r"\$\{([A-Z_]+)\}")


@dataclass
class Edge:
    http_port: int
    https_port: int
    old_tls_port: int  # the TLS 1.0/1.1-only server
    cafile: Path  # the throwaway certificate, for clients that must trust it
    folder: Path


def render(template: str, values: dict[str, str]) -> str:
    """``template`` with each ``${NAME}`` replaced, as envsubst would; every placeholder must be given."""
    assert set(_PLACEHOLDER.findall(template)) == set(values), "the shipped file's placeholders changed"
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


VALID_FROM = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
VALID_UNTIL = dt.datetime(2099, 12, 31, tzinfo=dt.timezone.utc)


def throwaway_certificate(folder: Path, names: list[str]) -> tuple[Path, Path]:
    """A self-signed certificate for ``names``, and its key. TLS checks its dates against the
    machine's own clock (OpenSSL's, which the suite's ``--on-day`` does not move), so it is valid
    for a span that holds any day the suite may stand on or run on."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    certificate = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(VALID_FROM).not_valid_after(VALID_UNTIL)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name) for name in names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


@contextlib.contextmanager
def nginx_edge(*, upstream: str, names: list[str]):
    """nginx with the shipped configuration in front of ``upstream`` (host:port); yields an Edge."""
    if NGINX is None:
        pytest.skip("no nginx on this machine (apt-get install nginx; .ci/run installs it)")
    folder = Path(tempfile.mkdtemp(prefix="pupiltrack-nginx-"))
    folder.chmod(0o755)  # nginx's workers (another user when started as root) use the temp folders in it
    try:
        cert, key = throwaway_certificate(folder, names)
        edge = Edge(http_port=free_port(), https_port=free_port(), old_tls_port=free_port(), cafile=cert, folder=folder)
        (folder / "pupiltrack.conf").write_text(render(SHIPPED.read_text(), {
            "BASE_DOMAIN": settings.BASE_DOMAIN,
            "PUPILTRACK_UPSTREAM": upstream,
            "PUPILTRACK_LISTEN_HTTP": f"127.0.0.1:{edge.http_port}",
            "PUPILTRACK_LISTEN_HTTPS": f"127.0.0.1:{edge.https_port}",
            "PUPILTRACK_TLS_CERTIFICATE": str(cert),
            "PUPILTRACK_TLS_KEY": str(key),
        }))
        temp_paths = "".join(f"    {kind}_temp_path {folder / kind};\n" for kind in ("client_body", "proxy", "fastcgi",
                                                                                      "uwsgi", "scgi"))
        (folder / "nginx.conf").write_text(
            "worker_processes 1;\n"
            "events { worker_connections 64; }\n"
            "http {\n"
            "    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;   # as in Debian's /etc/nginx/nginx.conf\n"
            "    ssl_prefer_server_ciphers on;\n"
            "    access_log off;\n"
            f"{temp_paths}"
            f"    include {folder / 'pupiltrack.conf'};\n"
            "    server {\n"
            f"        listen 127.0.0.1:{edge.old_tls_port} ssl;\n"
            f"        ssl_certificate {cert};\n"
            f"        ssl_certificate_key {key};\n"
            "        ssl_protocols TLSv1 TLSv1.1;\n"
            "        ssl_ciphers DEFAULT:@SECLEVEL=0;\n"
            "        return 200 \"old\\n\";\n"
            "    }\n"
            "}\n")
        process = subprocess.Popen(
            [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"),
             "-g", f"daemon off; pid {folder / 'nginx.pid'}; error_log {folder / 'error.log'} warn;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            _wait_listening(process, edge, folder)
            yield edge
        finally:
            process_stop(process)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _wait_listening(process: subprocess.Popen, edge: Edge, folder: Path) -> None:
    deadline = time.monotonic() + 15
    for port in (edge.http_port, edge.https_port, edge.old_tls_port):
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (folder / "error.log").read_text() if (folder / "error.log").exists() else ""
                    raise RuntimeError(
                        f"nginx did not start: {process.stderr.read().decode(errors='replace')} {log}") from None
                time.sleep(0.05)


def client_context(version: ssl.TLSVersion, *, cafile: Path) -> ssl.SSLContext:
    """A client that speaks exactly ``version`` and trusts the throwaway certificate. Below TLS 1.2
    it allows OpenSSL's security level 0, without which it could not offer the old protocol."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # naming TLS 1.0 and 1.1 is the point here
        context.minimum_version = context.maximum_version = version
    if version < ssl.TLSVersion.TLSv1_2:
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


class _Loopback:
    """Connects to 127.0.0.1 whatever the host name (``*.localhost`` needs no resolver then),
    from ``source`` (any 127/8 address is this machine), sending ``host`` as SNI and Host."""

    def connect(self):
        sock = socket.create_connection(("127.0.0.1", self.port), self.timeout, self.source_address)
        context = getattr(self, "tls_context", None)
        self.sock = context.wrap_socket(sock, server_hostname=self.host) if context else sock


class LoopbackHTTPS(_Loopback, http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, *, context: ssl.SSLContext, source: str = "127.0.0.1"):
        super().__init__(host, port, timeout=10, context=context, source_address=(source, 0))
        self.tls_context = context


class LoopbackHTTP(_Loopback, http.client.HTTPConnection):
    def __init__(self, host: str, port: int, *, source: str = "127.0.0.1"):
        super().__init__(host, port, timeout=10, source_address=(source, 0))
