"""The one way cronhub makes an outbound HTTP request (GitHub, webhooks, Slack).

Every request has connect/read timeouts, cronhub's User-Agent, a bounded body,
no proxy from the environment (a proxy would hide the address the guard checks),
and connects only to an address the outbound-URL guard accepted. Redirects are
followed by hand so each hop is checked again (docs/execution.md).
"""

from __future__ import annotations

import functools
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection as urllib3_connection

from integrations import urlguard

MAX_BODY_BYTES = 64 * 1024
MAX_REDIRECTS = 5
REDIRECT_STATUSES = {301, 302, 303, 307, 308}


class OutboundError(Exception):
    """A request that produced no HTTP response; ``str()`` is the text users see.

    ``refused`` tells a refusal by the outbound-URL guard from a network failure.
    """

    def __init__(self, message: str, *, refused: bool = False):
        super().__init__(message)
        self.refused = refused


@dataclass
class HttpResponse:
    status: int
    text: str  # at most MAX_BODY_BYTES of the body, decoded
    headers: Mapping[str, str] = field(default_factory=dict)
    url: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self):
        import json

        try:
            return json.loads(self.text)
        except ValueError:
            return None


# --- connections pinned to guard-approved addresses ---------------------------------
class _GuardedConnectionMixin:
    block_private = False

    def _new_conn(self) -> socket.socket:
        # Resolve once, check every address, then connect to those exact addresses:
        # the name is never resolved again behind the guard's back.
        addresses = urlguard.allowed_addresses(self._dns_host, self.port, block_private=self.block_private)
        last_error: OSError | None = None
        for address in addresses:
            try:
                return urllib3_connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as exc:
                raise ConnectTimeoutError(
                    self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
                ) from exc
            except OSError as exc:
                last_error = exc
        raise NewConnectionError(self, f"Failed to establish a new connection: {last_error}")


@functools.cache
def _adapter_class(block_private: bool) -> type[HTTPAdapter]:
    http_conn = type("GuardedHTTPConnection", (_GuardedConnectionMixin, HTTPConnection),
                     {"block_private": block_private})
    https_conn = type("GuardedHTTPSConnection", (_GuardedConnectionMixin, HTTPSConnection),
                      {"block_private": block_private})
    http_pool = type("GuardedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn})
    https_pool = type("GuardedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn})

    class GuardedAdapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": http_pool, "https": https_pool}

    return GuardedAdapter


def _new_session(block_private: bool) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    adapter = _adapter_class(block_private)(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = settings.OUTBOUND_USER_AGENT
    return session


_thread_sessions = threading.local()


def _session(block_private: bool) -> requests.Session:
    """This thread's session (sessions are not thread-safe), kept so its connections are reused.

    Building a session per request cost about a fifth of a scheduled run, and a kept-alive
    connection saves the TCP/TLS handshake to the same webhook host or GitHub. Reuse stays
    pinned: a pooled connection was opened to an address the guard approved, and every
    request still passes ``check_url`` before it is sent.
    """
    sessions = _thread_sessions.__dict__.setdefault("by_policy", {})
    if block_private not in sessions:
        sessions[block_private] = _new_session(block_private)
    return sessions[block_private]


def default_timeout() -> tuple[float, float]:
    return (settings.OUTBOUND_CONNECT_TIMEOUT, settings.OUTBOUND_READ_TIMEOUT)


# --- readable error texts ---------------------------------------------------------------
def _describe(exc: Exception, url: str, timeout: tuple[float, float]) -> str:
    host = urlsplit(url).netloc or url
    if isinstance(exc, urlguard.OutboundURLRefused):
        return str(exc)
    if isinstance(exc, requests.ConnectTimeout):
        return f"Connection to {host} timed out after {timeout[0]:g} s"
    if isinstance(exc, requests.ReadTimeout) or "Read timed out" in str(exc):
        return f"No response from {host} within {timeout[1]:g} s (read timeout)"
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema
                  | requests.exceptions.InvalidSchema):
        return f"Invalid URL {url!r}: {exc}"
    if isinstance(exc, requests.ConnectionError):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        if isinstance(reason, urlguard.OutboundURLRefused):
            return str(reason)
        text = str(reason or exc)
        marker = "Failed to establish a new connection: "
        if marker in text:
            text = text.split(marker, 1)[1].rstrip("')\"")
        return f"Could not connect to {host}: {text}"
    return f"{type(exc).__name__}: {exc}"


def _read_body(response: requests.Response) -> str:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=8192):
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_BODY_BYTES:
            break
    raw = b"".join(chunks)[:MAX_BODY_BYTES]
    return raw.decode(response.encoding or "utf-8", errors="replace")


def request(method: str, url: str, *, json=None, headers: Mapping[str, str] | None = None,
            timeout: tuple[float, float] | None = None, block_private: bool = False,
            follow_redirects: bool = True) -> HttpResponse:
    """Send one request (following up to MAX_REDIRECTS checked redirects).

    Returns the final response whatever its status; raises OutboundError when there
    is none (refused by the guard, connection failure, timeout).
    """
    timeout = timeout or default_timeout()
    method = method.upper()
    body = json
    send_headers = dict(headers or {})
    session = _session(block_private)
    # Cookies a server sets live for this call's redirects only, as with a session per call:
    # a kept session must not carry one job's cookies to another job's target.
    session.cookies.clear()
    for hop in range(MAX_REDIRECTS + 1):
        try:
            urlguard.check_url(url, block_private=block_private)
            response = session.request(
                method, url, json=body, headers=send_headers, timeout=timeout,
                allow_redirects=False, stream=True,
            )
            try:
                location = response.headers.get("Location")
                if follow_redirects and response.status_code in REDIRECT_STATUSES and location:
                    next_url = urljoin(url, location)
                    if urlsplit(next_url).netloc != urlsplit(url).netloc:
                        send_headers.pop("Authorization", None)
                    # Machine-to-machine: keep method and body (a browser would turn a
                    # POST into a GET on 301/302), except after "303 See Other".
                    if response.status_code == 303:
                        method, body = "GET", None
                    url = next_url
                    continue
                text = _read_body(response)
                return HttpResponse(response.status_code, text, dict(response.headers), url)
            finally:
                response.close()  # after a complete read the connection is already back in the pool
        except urlguard.OutboundURLRefused as exc:
            prefix = f"Redirect to {url} refused: " if hop else ""
            raise OutboundError(prefix + str(exc), refused=True) from None
        except requests.RequestException as exc:
            reason = getattr(exc.args[0], "reason", None) if exc.args else None
            raise OutboundError(_describe(exc, url, timeout),
                                refused=isinstance(reason, urlguard.OutboundURLRefused)) from None
    raise OutboundError(f"Too many redirects (more than {MAX_REDIRECTS})")
