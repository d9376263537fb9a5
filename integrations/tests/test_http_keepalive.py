"""Outbound requests reuse a kept-alive connection per thread, and nothing else carries over."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from integrations import http, urlguard


class _PeerRecordingHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 - http.server's naming
        self.server.peers.append(self.client_address)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format, *args):
        pass


@pytest.fixture
def peer_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PeerRecordingHandler)
    server.daemon_threads = True
    server.peers = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_consecutive_requests_to_one_host_share_a_connection(peer_server):
    url = f"http://127.0.0.1:{peer_server.server_port}/hook"

    assert http.request("GET", url).status == 200
    assert http.request("GET", url).status == 200

    assert len(peer_server.peers) == 2
    assert peer_server.peers[0] == peer_server.peers[1]  # same client socket


def test_another_thread_opens_its_own_connection(peer_server):
    url = f"http://127.0.0.1:{peer_server.server_port}/hook"
    http.request("GET", url)

    worker = threading.Thread(target=http.request, args=("GET", url))
    worker.start()
    worker.join(timeout=10)

    assert len(peer_server.peers) == 2
    assert peer_server.peers[0] != peer_server.peers[1]


def test_a_cookie_set_by_one_target_is_not_sent_on_a_later_call(webhook_server):
    webhook_server.reply(200, "ok", headers={"Set-Cookie": "sid=secret; Path=/"})
    http.request("GET", webhook_server.url_for("/first"))

    http.request("GET", webhook_server.url_for("/second"))

    assert [r.path for r in webhook_server.requests] == ["/first", "/second"]
    assert "cookie" not in webhook_server.requests[1].headers


def test_a_reused_connection_still_goes_through_the_guard_for_each_request(peer_server, monkeypatch):
    url = f"http://127.0.0.1:{peer_server.server_port}/hook"
    http.request("GET", url)
    monkeypatch.setattr(urlguard, "resolve_host", lambda host, port: ["169.254.169.254"])

    with pytest.raises(http.OutboundError, match="169.254.169.254") as caught:
        http.request("GET", f"http://metadata.example.test:{peer_server.server_port}/hook")

    assert caught.value.refused is True
    assert len(peer_server.peers) == 1
