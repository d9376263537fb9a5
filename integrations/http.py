"""The one way cronhub makes an outbound HTTP request (GitHub, webhooks, Slack).

Every request has one total deadline (connect, TLS handshake, sending, every read
and every redirect together; ``OUTBOUND_TOTAL_TIMEOUT`` unless the caller gives its
own), per-operation connect/read timeouts inside it, cronhub's User-Agent, a bounded
body, no proxy from the environment (a proxy would hide the address the guard
checks), and connects only to an address the outbound-URL guard accepted. Redirects
are followed by hand so each hop is checked again (docs/execution.md).

How the deadline holds however a peer drips bytes: requests and urllib3 only know
per-socket-operation timeouts, so the sockets of cronhub's sessions check the
calling thread's deadline before every send and receive and give that operation
only the time left (or fail it at once when none is left). A peer that sends one
byte just before each read would time out therefore still cannot stretch the call.
The one step outside it is the DNS lookup, bounded by the system resolver's own
timeouts.
"""

from __future__ import annotations

import functools
import socket
import threading
import time
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

    ``refused`` tells a refusal by the outbound-URL guard from a network failure;
    ``reached`` is False only when the request cannot have reached the peer (no
    connection was made), so re-sending it cannot duplicate anything.
    """

    def __init__(self, message: str, *, refused: bool = False, reached: bool = True):
        super().__init__(message)
        self.refused = refused
        self.reached = reached and not refused


class Deadline:
    """The moment by which one whole outbound call must be done.

    A caller that makes several requests for one piece of work (the GitHub
    dispatch's workflow-name fallbacks) passes one Deadline to all of them.
    """

    def __init__(self, seconds: float):
        self.seconds = float(seconds)
        self._at = time.monotonic() + self.seconds

    def remaining(self) -> float:
        return self._at - time.monotonic()

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0


def call_deadline_seconds() -> float:
    """How long one outbound call of a run may take in all (``OUTBOUND_TOTAL_TIMEOUT``).

    A run that started its call at T has its answer, or has given up, by T plus this.
    """
    return float(settings.OUTBOUND_TOTAL_TIMEOUT)


def as_deadline(deadline: Deadline | float | None) -> Deadline:
    """A Deadline as is, a number of seconds from now, or None for ``call_deadline_seconds()``."""
    if isinstance(deadline, Deadline):
        return deadline
    return Deadline(call_deadline_seconds() if deadline is None else deadline)


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


# --- the calling thread's deadline, checked by every socket operation -----------------
@dataclass
class _Limits:
    deadline: Deadline
    per_operation: float  # the read timeout: no single send or receive waits longer


_active = threading.local()


def _limits() -> _Limits | None:
    return getattr(_active, "limits", None)


class _DeadlineIO:
    """Gives each send and receive only the time left before the call's deadline.

    Mixed into the socket classes of cronhub's connections (see ``_bounded``); a
    socket used outside a call (no deadline in this thread) behaves as usual.
    """

    __slots__ = ()

    def _within_deadline(self) -> None:
        limits = _limits()
        if limits is None:
            return
        left = limits.deadline.remaining()
        if left <= 0:
            raise TimeoutError("the call's total deadline has passed")
        self.settimeout(min(limits.per_operation, left))

    def recv(self, *args, **kwargs):
        self._within_deadline()
        return super().recv(*args, **kwargs)

    def recv_into(self, *args, **kwargs):
        self._within_deadline()
        return super().recv_into(*args, **kwargs)

    def send(self, *args, **kwargs):
        self._within_deadline()
        return super().send(*args, **kwargs)

    def sendall(self, *args, **kwargs):
        self._within_deadline()
        return super().sendall(*args, **kwargs)


@functools.cache
def _deadline_class(cls: type) -> type:
    return type(f"Deadline{cls.__name__}", (_DeadlineIO, cls), {"__slots__": ()})


def _bounded(sock):
    """The same socket, its operations now bounded by the calling thread's deadline."""
    if isinstance(sock, socket.socket) and not isinstance(sock, _DeadlineIO):
        # Only methods are added (no state), so the instance can change class in place;
        # TLS sockets are made by the SSL context, hence this rather than a constructor.
        sock.__class__ = _deadline_class(type(sock))
    return sock


# --- connections pinned to guard-approved addresses ---------------------------------
class _GuardedConnectionMixin:
    block_private = False

    def _connect_timeout(self) -> float | None:
        limits = _limits()
        if limits is None:
            return self.timeout
        left = limits.deadline.remaining()
        if left <= 0:
            raise ConnectTimeoutError(self, f"Connection to {self.host}: the call's deadline has passed")
        return left if self.timeout is None else min(self.timeout, left)

    def _new_conn(self) -> socket.socket:
        # Resolve once, check every address, then connect to those exact addresses:
        # the name is never resolved again behind the guard's back.
        addresses = urlguard.allowed_addresses(self._dns_host, self.port, block_private=self.block_private)
        last_error: OSError | None = None
        for address in addresses:
            timeout = self._connect_timeout()
            try:
                sock = urllib3_connection.create_connection(
                    (address, self.port),
                    timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
                # The TLS handshake that may follow gets only what is left of the call
                # (it is one operation with one timeout for all its round trips).
                sock.settimeout(self._connect_timeout())
                return _bounded(sock)
            except TimeoutError as exc:
                raise ConnectTimeoutError(
                    self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
                ) from exc
            except OSError as exc:
                last_error = exc
        raise NewConnectionError(self, f"Failed to establish a new connection: {last_error}")

    def connect(self) -> None:
        super().connect()
        self.sock = _bounded(self.sock)  # after a TLS handshake, the TLS socket


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


def _read_body(response: requests.Response, limit: int = MAX_BODY_BYTES) -> str:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=8192):
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    raw = b"".join(chunks)[:limit]
    return raw.decode(response.encoding or "utf-8", errors="replace")


def _deadline_passed(url: str, deadline: Deadline) -> OutboundError:
    host = urlsplit(url).netloc or url
    return OutboundError(f"No complete response from {host} within {deadline.seconds:g} s (total timeout)")


def request(method: str, url: str, *, json=None, data: bytes | None = None,
            headers: Mapping[str, str] | None = None,
            timeout: tuple[float, float] | None = None, deadline: Deadline | float | None = None,
            block_private: bool = False, follow_redirects: bool = True,
            max_body_bytes: int = MAX_BODY_BYTES) -> HttpResponse:
    """Send one request (following up to MAX_REDIRECTS checked redirects).

    ``deadline`` bounds the whole call, redirects included: a Deadline shared with
    other requests, a number of seconds from now, or None for ``call_deadline_seconds()``.
    ``timeout`` is the (connect, read) limit of any single socket operation within it.
    Returns the final response whatever its status; raises OutboundError when there
    is none (refused by the guard, connection failure, timeout). At most
    ``max_body_bytes`` of the body are read (API lookups that answer lists need more). ``data`` sends
    these exact bytes as the body (the caller sets its Content-Type), ``json`` a
    JSON document.
    """
    timeout = timeout or default_timeout()
    deadline = as_deadline(deadline)
    previous = _limits()
    _active.limits = _Limits(deadline, float(timeout[1]))
    try:
        return _send(method, url, json=json, data=data, headers=headers, timeout=timeout,
                     deadline=deadline, block_private=block_private, follow_redirects=follow_redirects,
                     max_body_bytes=max_body_bytes)
    finally:
        _active.limits = previous


def _send(method: str, url: str, *, json, data, headers, timeout: tuple[float, float], deadline: Deadline,
          block_private: bool, follow_redirects: bool, max_body_bytes: int = MAX_BODY_BYTES) -> HttpResponse:
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
            left = deadline.remaining()
            if left <= 0:
                raise _deadline_passed(url, deadline)
            response = session.request(
                method, url, json=body, data=data, headers=send_headers,
                timeout=(min(timeout[0], left), min(timeout[1], left)),
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
                        method, body, data = "GET", None, None
                        send_headers = {k: v for k, v in send_headers.items() if k.lower() != "content-type"}
                    url = next_url
                    continue
                text = _read_body(response, max_body_bytes)
                return HttpResponse(response.status_code, text, dict(response.headers), url)
            finally:
                # After a complete read the connection is already back in the pool; after
                # an unfinished one (deadline, redirect) it is closed, never read further.
                response.close()
        except urlguard.OutboundURLRefused as exc:
            prefix = f"Redirect to {url} refused: " if hop else ""
            raise OutboundError(prefix + str(exc), refused=True) from None
        except requests.RequestException as exc:
            # No connection made: the request cannot have reached the peer.
            unreached = isinstance(exc, requests.ConnectTimeout) or (
                isinstance(exc, requests.ConnectionError)
                and "Failed to establish a new connection" in str(exc))
            if deadline.expired:
                error = _deadline_passed(url, deadline)
                error.reached = not unreached
                raise error from None
            reason = getattr(exc.args[0], "reason", None) if exc.args else None
            raise OutboundError(_describe(exc, url, timeout),
                                refused=isinstance(reason, urlguard.OutboundURLRefused),
                                reached=not unreached) from None
    raise OutboundError(f"Too many redirects (more than {MAX_REDIRECTS})")
