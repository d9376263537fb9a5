"""HTTPS through the guarded connection: pinned to the checked address, certificate checked by name."""

import shutil
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cronhub.testing.servers import DripServer
from integrations import http, urlguard

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def certificate(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "1",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=hooks.example.test",
                    "-addext", "subjectAltName=DNS:hooks.example.test"],
                   check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return cert, context


@pytest.fixture
def tls_server(certificate):
    cert, context = certificate
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.server_address[1], cert
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def trusting(monkeypatch, tls_server):
    _port, cert = tls_server
    make_session = http._new_session

    def session(block_private):
        s = make_session(block_private)
        s.verify = str(cert)
        return s

    monkeypatch.setattr(http, "_session", session)
    monkeypatch.setattr(urlguard, "resolve_host", lambda host, port: ["127.0.0.1"])


@pytest.mark.usefixtures("trusting")
def test_https_reaches_the_checked_address_and_verifies_the_certificate_name(tls_server):
    port, _cert = tls_server

    assert http.request("GET", f"https://hooks.example.test:{port}/x").status == 200


@pytest.mark.usefixtures("trusting")
def test_a_certificate_for_another_name_is_rejected(tls_server):
    port, _cert = tls_server

    with pytest.raises(http.OutboundError, match="Hostname mismatch"):
        http.request("GET", f"https://wrong.example.test:{port}/x")


@pytest.mark.usefixtures("trusting")
def test_a_target_dripping_over_https_is_cut_off_at_the_total_deadline(certificate, settings):
    settings.OUTBOUND_READ_TIMEOUT = 30
    _cert, context = certificate
    with DripServer(ssl_context=context) as drip:
        with pytest.raises(http.OutboundError, match=r"within 2 s \(total timeout\)"):
            http.request("GET", f"https://hooks.example.test:{drip.port}/x", deadline=2)

        [sent] = drip.wait_hung_up()
    assert sent < drip.length
