"""Many outbound webhook calls at once: an asyncio HTTP client (aiohttp) on its own thread.

The scheduler's burst pipeline (``jobs.scheduler.pipeline``) hands it the calls of a
fire time; each call keeps every rule of the one-at-a-time client (``integrations.http``):

- **the outbound guard, resolved and pinned**: a host is resolved and every address
  checked (``urlguard.allowed_addresses``) once per burst, and connections go to exactly
  those addresses (a resolver that only answers from that list), so DNS cannot change
  under the check; the URL keeps its host name, so ``Host`` and TLS SNI/certificate
  checks are the host's. Each redirect hop is checked the same way;
- **one total deadline per call** (connect, TLS, every read, every redirect), enforced
  by the event loop whatever the peer drips, inside it the per-operation connect and
  read timeouts;
- cronhub's User-Agent, no proxy from the environment, no cookies kept between calls,
  at most ``http.MAX_BODY_BYTES`` of the answer read.

At most ``in_flight`` calls are under way at once (the others wait in a queue, their
deadline not started yet); connections are pooled per host (``limit_per_host``), so a
burst to one receiver reuses kept-alive connections and a slow host holds only its own
(a host whose calls all hang holds at most ``limit_per_host`` of the ``in_flight`` slots,
each for its total deadline at most).
``submit`` is thread-safe; the result comes back through the ``done`` callback, called
on the client's thread (keep it short: put the result on a queue).
"""

from __future__ import annotations

import asyncio
import collections
import functools
import json as jsonlib
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import aiohttp
import yarl
from aiohttp.abc import AbstractResolver
from django.conf import settings

from integrations import urlguard
from integrations.http import MAX_BODY_BYTES, MAX_REDIRECTS, REDIRECT_STATUSES, HttpResponse, OutboundError


@dataclass(frozen=True)
class OutboundRequest:
    """One call, fully described (what ``jobs.services.dispatch.webhook_request`` builds)."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    deadline_seconds: float = 30.0
    connect_timeout: float = 10.0
    read_timeout: float = 30.0


def json_body(payload) -> bytes:
    """A JSON body spelled as the one-at-a-time client (``requests``' ``json=``) spells it."""
    return jsonlib.dumps(payload, allow_nan=False).encode("utf-8")


Done = Callable[[HttpResponse | None, OutboundError | None], None]


class _PinnedResolver(AbstractResolver):
    """Answers only with the addresses the guard approved for (host, port) in this burst."""

    def __init__(self, pins: dict[tuple[str, int], list[str]]):
        self.pins = pins

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET):
        addresses = self.pins.get((host, port))
        if not addresses:  # never resolved behind the guard's back
            raise OSError(f"{host}: no address approved by the outbound guard")
        return [{"hostname": host, "host": address, "port": port,
                 "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                 "proto": 0, "flags": socket.AI_NUMERICHOST} for address in addresses]

    async def close(self) -> None:
        return None


@functools.lru_cache(maxsize=16384)
def _host_port(url: str) -> tuple[str, int]:
    """Scheme and host checks of ``urlguard.check_url`` without the lookup (done once per burst).

    Pure (the URL's text alone decides), so remembered per URL: a job calls the same URL at
    every fire time. A refusal is raised again each time (exceptions are not cached)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise urlguard.OutboundURLRefused(f"Invalid URL {url!r}: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise urlguard.OutboundURLRefused(f"Refused URL {url!r}: only http:// and https:// are allowed")
    if not parts.hostname:
        raise urlguard.OutboundURLRefused(f"Refused URL {url!r}: no host")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def _netloc(url: str) -> str:
    """How an error names the host of ``url``."""
    return urlsplit(url).netloc or url


@functools.lru_cache(maxsize=16384)
def _parsed(url: str) -> yarl.URL | str:
    """``url`` parsed as aiohttp parses it (immutable; a job calls the same URL at every fire time);
    the text itself when it does not parse, so aiohttp reports it as it would."""
    try:
        return yarl.URL(url)
    except (ValueError, TypeError):
        return url


@functools.lru_cache(maxsize=64)
def _timeouts(connect: float, read: float) -> aiohttp.ClientTimeout:
    """The per-operation timeouts of a call (immutable: one object per pair of values). The
    total deadline is the event loop's (``asyncio.timeout`` in ``_call``), not aiohttp's."""
    return aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=read)


class ConnectionLostAfterSending(aiohttp.ClientError):
    """The connection broke once the request was (possibly) on its way: the peer may have it."""


async def _never_resend(request: aiohttp.ClientRequest, handler) -> aiohttp.ClientResponse:
    """A client middleware: a call goes out once per attempt, never re-sent by aiohttp itself.

    aiohttp sends a GET, PUT or DELETE a second time, by itself, when the connection
    breaks after the request was written (``ServerDisconnectedError``/``ClientOSError``:
    its retry of a kept-alive connection that turned out closed, applied to every
    connection). The receiver may well have got the first one, so the webhook would
    arrive twice. Re-raised here as another ``ClientError``, the error ends the call
    (recorded ``failed`` with its text); only cronhub decides about another attempt
    (the recovery's one re-send, with the same Idempotency-Key). Errors while
    connecting are left alone: nothing was sent, and aiohttp does not retry them.
    """
    try:
        return await handler(request)
    except aiohttp.ClientConnectorError:
        raise
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
        raise ConnectionLostAfterSending(
            f"the connection closed before an answer came ({type(exc).__name__}: {exc}); "
            f"the request may have been received") from exc


def _decode(raw: bytes, response: aiohttp.ClientResponse) -> str:
    # As requests decides: the declared charset, ISO-8859-1 for text/* without one, else UTF-8.
    charset = response.charset
    if not charset:
        charset = "ISO-8859-1" if response.content_type.startswith("text/") else "utf-8"
    try:
        return raw.decode(charset, errors="replace")
    except LookupError:
        return raw.decode("utf-8", errors="replace")


@dataclass
class _HostQueue:
    """The calls to one (host, port) waiting their turn, and how many workers take them."""

    calls: collections.deque = field(default_factory=collections.deque)
    workers: int = 0


class BurstClient:
    """An event loop thread with one aiohttp session (pooled connections) for many concurrent calls."""

    def __init__(self, *, block_private: bool | None = None, in_flight: int = 256, limit_per_host: int = 128):
        self.block_private = settings.WEBHOOK_BLOCK_PRIVATE if block_private is None else block_private
        self.in_flight, self.limit_per_host = in_flight, limit_per_host
        self._slots: asyncio.Semaphore | None = None
        self._hosts: dict[tuple[str, int], _HostQueue] = {}
        self._pins: dict[tuple[str, int], list[str]] = {}
        self._lookups: dict[tuple[str, int], asyncio.Future] = {}
        self._loop = asyncio.new_event_loop()
        self._session: aiohttp.ClientSession | None = None
        self._thread = threading.Thread(target=self._run, name="outbound-burst", daemon=True)
        self._ready = threading.Event()
        self._thread.start()
        self._ready.wait()

    # --- the loop thread ------------------------------------------------------------------
    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._open())
        self._ready.set()
        self._loop.run_forever()

    async def _open(self) -> None:
        self._slots = asyncio.Semaphore(self.in_flight)
        connector = aiohttp.TCPConnector(
            resolver=_PinnedResolver(self._pins), use_dns_cache=False, limit=self.in_flight,
            limit_per_host=self.limit_per_host, keepalive_timeout=30,
        )
        self._session = aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False,
            headers={"User-Agent": settings.OUTBOUND_USER_AGENT}, auto_decompress=True,
            skip_auto_headers=("Accept-Encoding",), middlewares=(_never_resend,),
        )

    def close(self) -> None:
        if not self._loop.is_running():
            return

        async def shut():
            if self._session is not None:
                await self._session.close()

        asyncio.run_coroutine_threadsafe(shut(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    # --- API ------------------------------------------------------------------------------
    def new_burst(self) -> None:
        """Hosts are resolved and checked again for the calls submitted from now on."""
        self._loop.call_soon_threadsafe(self._forget_pins)

    def _forget_pins(self) -> None:
        self._pins.clear()
        self._lookups.clear()

    def submit(self, request: OutboundRequest, done: Done) -> None:
        self.submit_many([(request, done)])

    def submit_many(self, calls: list[tuple[OutboundRequest, Done]]) -> None:
        """Queue calls; at most ``in_flight`` are under way at once, the others wait their turn.

        A call's total deadline starts when it starts, not while it waits in this queue.
        """
        self._loop.call_soon_threadsafe(self._enqueue, calls)

    def _enqueue(self, calls) -> None:
        # Each host's calls wait in its own queue, taken by at most ``limit_per_host`` workers
        # of that host; a worker takes one of all ``in_flight`` slots before it takes a call.
        # So calls waiting for a busy (slow, hanging) host never hold the slots other hosts'
        # calls need, and a call's deadline starts when it is taken, not while it waits.
        for request, done in calls:
            try:
                key = _host_port(request.url)
            except urlguard.OutboundURLRefused:
                key = ("", 0)  # refused at once by the call itself
            host = self._hosts.get(key)
            if host is None:
                host = self._hosts[key] = _HostQueue()
            host.calls.append((request, done))
            if host.workers < self.limit_per_host:
                host.workers += 1
                self._loop.create_task(self._host_worker(key, host))

    async def _host_worker(self, key: tuple[str, int], host: _HostQueue) -> None:
        try:
            while host.calls:
                async with self._slots:
                    if not host.calls:
                        break
                    request, done = host.calls.popleft()
                    await self._call(request, done)
        finally:
            host.workers -= 1
            if not host.workers and not host.calls and self._hosts.get(key) is host:
                del self._hosts[key]

    # --- one call -------------------------------------------------------------------------
    async def _approve(self, url: str) -> None:
        """Resolve and check ``url``'s host once per burst; raises OutboundURLRefused."""
        key = _host_port(url)
        lookup = self._lookups.get(key)
        if lookup is not None and key in self._pins and lookup.done():
            return  # approved in this burst already (``new_burst`` forgets both)
        if lookup is None:
            host, port = key
            lookup = self._loop.run_in_executor(
                None, lambda: urlguard.allowed_addresses(host, port, block_private=self.block_private))
            self._lookups[key] = lookup
        try:
            addresses = await asyncio.shield(lookup)
        except urlguard.OutboundURLRefused:
            raise
        except Exception as exc:  # noqa: BLE001 - a resolver surprise is a refusal with its text
            raise urlguard.OutboundURLRefused(f"Cannot resolve host {key[0]!r}: {exc}") from None
        if self._lookups.get(key) is lookup:
            self._pins[key] = addresses

    async def _call(self, request: OutboundRequest, done: Done) -> None:
        url = request.url
        try:
            async with asyncio.timeout(request.deadline_seconds):
                response = await self._send(request)
        except TimeoutError:
            host = _netloc(url)
            error = OutboundError(
                f"No complete response from {host} within {request.deadline_seconds:g} s (total timeout)")
            self._finish(done, None, error)
            return
        except OutboundError as error:
            self._finish(done, None, error)
            return
        except Exception as exc:  # noqa: BLE001 - every call ends with an answer or an error
            self._finish(done, None, OutboundError(f"{type(exc).__name__}: {exc}"))
            return
        self._finish(done, response, None)

    @staticmethod
    def _finish(done: Done, response, error) -> None:
        try:
            done(response, error)
        except Exception:  # noqa: BLE001 - the callback's own trouble must not kill the loop
            import logging

            logging.getLogger(__name__).exception("outbound burst callback failed")

    async def _send(self, request: OutboundRequest) -> HttpResponse:
        method, url, body = request.method.upper(), request.url, request.body
        headers = dict(request.headers)
        if body is not None:
            headers.setdefault("Content-Type", "application/json")
        timeout = _timeouts(request.connect_timeout, request.read_timeout)
        for hop in range(MAX_REDIRECTS + 1):
            try:
                await self._approve(url)
            except urlguard.OutboundURLRefused as exc:
                prefix = f"Redirect to {url} refused: " if hop else ""
                raise OutboundError(prefix + str(exc), refused=True) from None
            try:
                async with self._session.request(method, _parsed(url), data=body, headers=headers,
                                                 timeout=timeout, allow_redirects=False) as response:
                    location = response.headers.get("Location")
                    if response.status in REDIRECT_STATUSES and location:
                        next_url = urljoin(url, location)
                        if urlsplit(next_url).netloc != urlsplit(url).netloc:
                            headers.pop("Authorization", None)
                        if response.status == 303:
                            method, body = "GET", None
                            headers.pop("Content-Type", None)
                        response.close()
                        url = next_url
                        continue
                    raw = await self._read(response)
                    return HttpResponse(response.status, _decode(raw, response), dict(response.headers), url)
            except aiohttp.ConnectionTimeoutError:
                host = _netloc(url)
                raise OutboundError(
                    f"Connection to {host} timed out after {request.connect_timeout:g} s") from None
            except aiohttp.ServerTimeoutError:
                host = _netloc(url)
                raise OutboundError(
                    f"No response from {host} within {request.read_timeout:g} s (read timeout)") from None
            except aiohttp.ClientConnectorError as exc:
                host = _netloc(url)
                raise OutboundError(f"Could not connect to {host}: {exc.os_error or exc}") from None
            except aiohttp.InvalidURL as exc:
                raise OutboundError(f"Invalid URL {url!r}: {exc}") from None
            except aiohttp.ClientError as exc:
                host = _netloc(url)
                raise OutboundError(f"Request to {host} failed: {type(exc).__name__}: {exc}") from None
        raise OutboundError(f"Too many redirects (more than {MAX_REDIRECTS})")

    @staticmethod
    async def _read(response: aiohttp.ClientResponse) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while size < MAX_BODY_BYTES:
            chunk = await response.content.read(MAX_BODY_BYTES - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size >= MAX_BODY_BYTES and not response.content.at_eof():
            response.close()  # never read further; the connection is not reused
        return b"".join(chunks)
