"""Real local servers for tests: a webhook receiver, a fake GitHub API, a Slack receiver, an SMTP server.

Each binds 127.0.0.1 on port 0 (never a fixed port), records what it receives and
is stopped by its fixture. The fixtures are available in every test (the root
conftest lists this module in ``pytest_plugins``):

``webhook_server``  RecordingServer answering ``200 ok``.
    ``webhook_server.url_for("/hook")`` → ``http://127.0.0.1:<port>/hook``;
    ``webhook_server.reply(status=500, body="boom")`` changes the default answer,
    ``webhook_server.reply(path="/slow", delay=2)`` one path's answer,
    ``webhook_server.reply(path="/r", status=302, headers={"Location": ...})`` a redirect,
    ``webhook_server.reply(path="/gone", hang_up=True)`` records the request and closes without answering;
    ``webhook_server.requests`` → [Recorded(method, path, headers, body)], ``.json()``/``.text``.
``fake_github``  FakeGitHub at ``settings.GITHUB_API_URL`` with ``settings.GITHUB_TOKEN = FakeGitHub.TOKEN``.
    Dispatches answer 204; ``fake_github.known_workflows = {"ci.yml"}`` makes other names 404
    (to drive the .yml/.yaml fallback); ``fake_github.run_details(4242)`` answers 200 with run
    details when the request asks for them; ``fake_github.legacy = True`` rejects that flag with 422
    like an older GitHub Enterprise Server; ``fake_github.reply(status=422, body={...})`` overrides.
    ``fake_github.dispatches`` → the recorded dispatch requests. Each accepted dispatch starts a
    run (``fake_github.runs``) a test moves on with ``fake_github.set_run(id, "completed",
    conclusion="failure")``; run lookups answer with ETags and 304s (``fake_github.not_modified``).
    Rate limits:
    ``secondary_limit(80, window=60)`` (beyond it: 403 + ``retry-after``), ``primary_limit(5000)``
    (``x-ratelimit-*`` headers; beyond it: 403 with ``x-ratelimit-remaining: 0``),
    ``rate_limit_next(1, status=429, retry_after=30)``; ``beyond_budget`` counts the dispatches
    that came while a limit was exhausted.
``slack_server``  RecordingServer answering ``200 ok``; ``slack_server.enable(channel=...)`` stores
    SlackSettings pointing at it; ``slack_server.messages`` → the JSON payloads received.
``drip_server``  DripServer: answers every request with its headers at once, then one body byte
    every ``drip_server.interval`` seconds (0.5) of a ``drip_server.length``-byte body (120):
    a target that never stalls long enough for a per-read timeout. ``drip_server.url_for("/hook")``;
    ``drip_server.wait_hung_up()`` → the bytes each finished response had sent when the client
    hung up (or when the body was complete: ``drip_server.completed`` counts those).
``silent_server``  SilentServer: accepts connections, reads what comes, never answers.
    ``silent_server.url_for("/hook")``; ``silent_server.connections`` counts accepted connections.
``TcpProxy(host, port)``  forwards 127.0.0.1:<proxy.port> to a server (a database, say);
    ``proxy.cut()`` drops every connection and refuses new ones (an outage), ``proxy.restore()``
    accepts again on the same port. Used with ``with TcpProxy(...) as proxy:``.
``smtp_server``  aiosmtpd server; switches Django to the SMTP backend pointing at it.
    ``smtp_server.messages`` → parsed ``email.message.EmailMessage`` objects,
    ``smtp_server.envelopes`` → aiosmtpd envelopes (``rcpt_tos``, ``mail_from``).

Outside pytest: ``with RecordingServer() as server: ...``, same for FakeGitHub, DripServer,
SilentServer and SMTPServer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import json
import re
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | dict | list = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (cut short when the server stops)
    hang_up: bool = False  # record the request, then close the connection without answering

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        body = self.body
        if isinstance(body, dict | list):
            body = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            body = body.encode()
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        return body, headers


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]  # keys lower-cased
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.body) if self.body else None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # keep test output clean
        pass

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        recorded = Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        owner: RecordingServer = self.server.owner
        reply = owner._record_and_choose(recorded)
        if reply.delay and owner._stopping.wait(reply.delay):
            return
        if reply.hang_up:
            self.close_connection = True
            return
        payload, headers = reply.encoded()
        try:
            self.send_response(reply.status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
            pass

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle


class _DeepQueueServer(ThreadingHTTPServer):
    # listen()'s backlog is read from the class when the socket starts listening: the default
    # of 5 drops the connection attempts of a burst, which the kernel retries 1, 3, 7 … s later.
    request_queue_size = 1024
    daemon_threads = True


class _LocalHTTPServer:
    """What every local test server shares: a threaded HTTP server on 127.0.0.1:<free port>,
    started and stopped by the test (or a ``with`` block), optionally over TLS."""

    handler_class: type[BaseHTTPRequestHandler]
    ssl_context = None  # a server-side ssl.SSLContext: serve HTTPS

    def __init__(self):
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url_for(self, path: str) -> str:
        return self.url + (path if path.startswith("/") else "/" + path)

    def start(self):
        self._httpd = _DeepQueueServer(("127.0.0.1", 0), self.handler_class)
        self._httpd.owner = self
        if self.ssl_context is not None:
            self._httpd.socket = self.ssl_context.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"{type(self).__name__}:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class RecordingServer(_LocalHTTPServer):
    """An HTTP server on 127.0.0.1:<free port> that records requests and answers as told."""

    handler_class = _Handler

    def __init__(self, default: Reply | None = None):
        super().__init__()
        self.default = default or Reply(200, "ok")
        self.routes: dict[str, Reply] = {}
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()

    # --- configuration ---------------------------------------------------------------
    def reply(self, status: int = 200, body=b"", headers: dict | None = None, delay: float = 0.0, *,
              path: str | None = None, hang_up: bool = False) -> None:
        """Set the default answer, or the answer for one exact path (query string included);
        ``hang_up``: record the request, then close the connection without an answer."""
        reply = Reply(status, body, dict(headers or {}), delay, hang_up)
        if path is None:
            self.default = reply
        else:
            self.routes[path] = reply

    def choose(self, request: Recorded) -> Reply:
        """The answer to ``request``; subclasses override for dynamic behaviour."""
        return self.routes.get(request.path, self.default)

    def _record_and_choose(self, request: Recorded) -> Reply:
        with self._lock:
            self.requests.append(request)
        return self.choose(request)


    def wait_for(self, count: int, timeout: float = 5.0) -> list[Recorded]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.requests)



class _DripHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        owner: DripServer = self.server.owner
        with owner._lock:
            owner.requests.append(self.path)
        sent = 0
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(owner.length))
            self.end_headers()
            self.wfile.flush()
            while sent < owner.length and not owner._stopping.wait(owner.interval):
                self.wfile.write(b".")
                self.wfile.flush()
                sent += 1
        except (BrokenPipeError, ConnectionResetError):  # the client hung up
            pass
        finally:
            self.close_connection = True
            with owner._lock:
                owner.sent.append(sent)
                owner.completed += sent == owner.length
                owner._finished.notify_all()

    do_GET = do_POST = _handle


class DripServer(_LocalHTTPServer):
    """An HTTP server on 127.0.0.1 that sends its headers at once, then the body one byte at a time.

    Every read of the client receives something within ``interval`` seconds, so only a
    deadline on the whole call stops it before ``length * interval`` seconds.
    """

    handler_class = _DripHandler

    def __init__(self, *, interval: float = 0.5, length: int = 120, ssl_context=None):
        super().__init__()
        self.interval = interval
        self.length = length
        self.ssl_context = ssl_context  # a server-side ssl.SSLContext: serve HTTPS
        self.requests: list[str] = []
        self.sent: list[int] = []  # per finished response: body bytes sent before it ended
        self.completed = 0  # responses whose whole body was sent
        self._lock = threading.Lock()
        self._finished = threading.Condition(self._lock)

    def wait_hung_up(self, count: int = 1, timeout: float = 10.0) -> list[int]:
        """Wait until ``count`` responses ended (client gone or body complete); their bytes sent."""
        with self._finished:
            self._finished.wait_for(lambda: len(self.sent) >= count, timeout)
            return list(self.sent)


class SilentServer:
    """A TCP server on 127.0.0.1 that accepts connections and never answers."""

    def __init__(self):
        self.connections = 0
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def port(self) -> int:
        return self._listener.getsockname()[1]

    def url_for(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}" + (path if path.startswith("/") else "/" + path)

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _address = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed by stop()
                return
            self.connections += 1
            self._sockets.append(conn)  # kept open, never read or answered

    def start(self) -> SilentServer:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self._thread = threading.Thread(target=self._accept, name=f"SilentServer:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for conn in [*self._sockets, self._listener]:
            if conn is not None:
                conn.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class TcpProxy:
    """Forwards 127.0.0.1:<port> to ``(host, port)``; ``cut()`` makes the target unreachable."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.port = 0
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)  # wakes the other direction's thread
                except OSError:
                    pass
                end.close()
                with self._lock:
                    self._open.discard(end)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:  # closed by cut() or stop()
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def restore(self) -> TcpProxy:
        """Accept connections (again), on the same port as before."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._thread = threading.Thread(target=self._accept, args=(listener,), name=f"TcpProxy:{self.port}",
                                        daemon=True)
        self._thread.start()
        return self

    def cut(self) -> None:
        """Drop every forwarded connection and refuse new ones until ``restore()``."""
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            sockets, self._open = list(self._open), set()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    start = restore
    stop = cut

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


_DISPATCH_PATH = re.compile(r"^/repos/([^/]+)/([^/]+)/actions/workflows/([^/?]+)/dispatches$")
_RUN_PATH = re.compile(r"^/repos/([^/]+)/([^/]+)/actions/runs/(\d+)$")
_RUNS_LIST_PATH = re.compile(r"^/repos/([^/]+)/([^/]+)/actions/workflows/([^/?]+)/runs$")


def _github_time(moment) -> str | None:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else None


@dataclass
class FakeRun:
    """A workflow run as the fake GitHub keeps it; ``version`` moves its ETag."""

    id: int
    owner: str
    repo: str
    workflow: str
    branch: str
    event: str = "workflow_dispatch"
    status: str = "queued"
    conclusion: str | None = None
    attempt: int = 1
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC).replace(microsecond=0))
    run_started_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    version: int = 1

    @property
    def etag(self) -> str:
        return f'W/"run-{self.id}-{self.version}"'

    def as_json(self, base_url: str) -> dict:
        return {
            "id": self.id, "name": self.workflow, "head_branch": self.branch, "event": self.event,
            "status": self.status, "conclusion": self.conclusion, "run_attempt": self.attempt,
            "workflow_id": 161335, "path": f".github/workflows/{self.workflow}",
            "created_at": _github_time(self.created_at),
            "run_started_at": _github_time(self.run_started_at or self.created_at),
            "updated_at": _github_time(self.updated_at or self.created_at),
            "url": f"{base_url}/repos/{self.owner}/{self.repo}/actions/runs/{self.id}",
            "html_url": f"https://github.com/{self.owner}/{self.repo}/actions/runs/{self.id}",
            "repository": {"full_name": f"{self.owner}/{self.repo}"},
        }


@dataclass
class _RateLimits:
    """FakeGitHub's rate-limit state (see its ``secondary_limit``, ``primary_limit``, ``rate_limit_next``)."""

    secondary: tuple[int, float, int] | None = None  # (per window, window seconds, retry-after)
    primary: list | None = None  # [limit, remaining, reset epoch]
    refuse_next: list | None = None  # [count, status, retry-after]
    accepted: list[float] = field(default_factory=list)  # arrival times of dispatches let through
    arrivals: list[float] = field(default_factory=list)  # arrival times of every dispatch
    beyond: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeGitHub(RecordingServer):
    """GitHub's ``workflow_dispatch`` endpoint and the workflow runs it starts, enough to test cronhub.

    Every accepted dispatch creates a run (``queued``) as GitHub does; a test moves it with
    ``set_run(run_id, "in_progress")`` / ``set_run(run_id, "completed", conclusion="failure")``.
    ``GET .../actions/runs/{id}`` answers the run with an ETag and 304 to a matching
    ``If-None-Match`` (``not_modified`` counts them, ``run_lookups`` lists the lookups);
    ``GET .../actions/workflows/{wf}/runs`` lists runs filtered by ``event``, ``branch`` and
    ``created=>=...`` (``run_listings`` lists those requests). ``dispatch_creates_runs = False``
    makes dispatches start no run the lists could show; ``add_run(...)`` adds one directly.
    ``workflow_run_event(run_id, action)`` is the body of the matching ``workflow_run`` webhook.
    """

    TOKEN = "ghs_cronhub_test_token"

    def __init__(self):
        super().__init__(Reply(204))
        self.known_workflows: set[str] | None = None  # None: every workflow name exists
        self.run_id: int | None = None
        self.legacy = False  # True: reject return_run_details like an older GitHub Enterprise Server
        self.runs: dict[int, FakeRun] = {}
        self.dispatch_creates_runs = True
        self.not_modified = 0  # 304 answers to conditional run lookups
        self._next_run_id = 7_000_000_000
        self._limits = _RateLimits()

    def run_details(self, run_id: int = 4242) -> None:
        """Answer 200 with run details when a dispatch asks for them (``return_run_details``)."""
        self.run_id = run_id

    @property
    def dispatches(self) -> list[Recorded]:
        return [r for r in self.requests if _DISPATCH_PATH.match(r.path)]

    # --- rate limits (GitHub's primary and secondary limits, per token) --------------------------
    def secondary_limit(self, per_window: int, window: float = 60.0, *, retry_after: int = 60) -> None:
        """At most ``per_window`` dispatches per sliding ``window`` seconds; one more is answered
        403 "secondary rate limit" with ``retry-after`` and counted in ``beyond_budget``."""
        self._limits.secondary = (per_window, float(window), retry_after)

    def primary_limit(self, limit: int, *, reset_in: float = 3600.0) -> None:
        """``limit`` requests until a reset ``reset_in`` seconds from now; every answer carries the
        ``x-ratelimit-*`` headers, and beyond the limit a 403 with ``x-ratelimit-remaining: 0``."""
        self._limits.primary = [limit, limit, int(time.time() + reset_in)]  # whole seconds, as GitHub

    def rate_limit_next(self, count: int = 1, *, status: int = 429, retry_after: int | None = 30) -> None:
        """Answer the next ``count`` dispatches with a rate-limit refusal (``status``, ``retry-after``)."""
        self._limits.refuse_next = [count, status, retry_after]

    @property
    def beyond_budget(self) -> int:
        """Dispatches that came while the secondary or primary limit was exhausted."""
        return self._limits.beyond

    @property
    def accepted_dispatch_times(self) -> list[float]:
        """Arrival times (epoch) of the dispatches no rate limit refused."""
        return list(self._limits.accepted)

    @property
    def dispatch_times(self) -> list[float]:
        """Arrival times (epoch) of every dispatch, refused ones included."""
        return list(self._limits.arrivals)

    def _rate_limited(self, request: Recorded) -> Reply | None:
        limits = self._limits
        now = time.time()
        with limits.lock:
            if _DISPATCH_PATH.match(request.path):
                limits.arrivals.append(now)
            if limits.refuse_next and limits.refuse_next[0] > 0:
                limits.refuse_next[0] -= 1
                _count, status, after = limits.refuse_next
                headers = {"Retry-After": str(after)} if after is not None else {}
                return Reply(status, {"message": "You have exceeded a secondary rate limit."}, headers)
            if limits.primary is not None:
                limit, remaining, reset = limits.primary
                if now >= reset:
                    remaining, reset = limit, int(now + 3600)
                if remaining <= 0:
                    limits.beyond += 1
                    limits.primary = [limit, remaining, reset]
                    return Reply(403, {"message": "API rate limit exceeded"}, {
                        "x-ratelimit-limit": str(limit), "x-ratelimit-remaining": "0",
                        "x-ratelimit-reset": str(int(reset))})
                limits.primary = [limit, remaining - 1, reset]
            if limits.secondary is not None and _DISPATCH_PATH.match(request.path):
                per_window, window, after = limits.secondary
                recent = [t for t in limits.accepted if t > now - window]
                if len(recent) >= per_window:
                    limits.beyond += 1
                    return Reply(403, {"message": "You have exceeded a secondary rate limit."},
                                 {"Retry-After": str(after)})
                limits.accepted.append(now)
        return None

    def _rate_headers(self, reply: Reply) -> Reply:
        primary = self._limits.primary
        if primary is None:
            return reply
        limit, remaining, reset = primary
        headers = {"x-ratelimit-limit": str(limit), "x-ratelimit-remaining": str(remaining),
                   "x-ratelimit-reset": str(int(reset)), **reply.headers}
        return Reply(reply.status, reply.body, headers, reply.delay)

    def choose(self, request: Recorded) -> Reply:
        path = request.path.split("?", 1)[0]
        if request.method == "GET" and (_RUN_PATH.match(path) or _RUNS_LIST_PATH.match(path)):
            return self._choose_run_lookup(request)
        limited = self._rate_limited(request)
        if limited is not None:
            return limited
        return self._rate_headers(self._choose_dispatch(request))

    def _choose_dispatch(self, request: Recorded) -> Reply:
        match = _DISPATCH_PATH.match(request.path)
        if request.method != "POST" or not match:
            return Reply(404, {"message": "Not Found"})
        owner, repo, workflow = match.groups()
        if self.known_workflows is not None and workflow not in self.known_workflows:
            return Reply(404, {"message": "Not Found",
                               "documentation_url": "https://docs.github.com/rest/actions/workflows"})
        if request.path in self.routes:
            return self.routes[request.path]
        body = request.json() or {}
        if self.legacy and "return_run_details" in body:
            return Reply(422, {"message": 'Invalid request.\n\n"return_run_details" is not a permitted key.'})
        if self.default.status == 204 and self.run_id is not None and body.get("return_run_details"):
            self._start_run(owner, repo, workflow, body, run_id=self.run_id)
            return Reply(200, {
                "workflow_run_id": self.run_id,
                "run_url": f"{self.url}/repos/{owner}/{repo}/actions/runs/{self.run_id}",
                "html_url": f"https://github.com/{owner}/{repo}/actions/runs/{self.run_id}",
            })
        if self.default.status == 204 and self.dispatch_creates_runs:
            self._start_run(owner, repo, workflow, body)
        return self.default

    # --- workflow runs (the lifecycle a dispatch starts) --------------------------------------------
    def _start_run(self, owner: str, repo: str, workflow: str, body: dict, *, run_id: int | None = None):
        ref = body.get("ref") if isinstance(body.get("ref"), str) else "master"
        self.add_run(owner=owner, repo=repo, workflow=workflow, branch=ref, run_id=run_id)

    def add_run(self, *, owner: str, repo: str, workflow: str, branch: str = "master",
                run_id: int | None = None, event: str = "workflow_dispatch",
                created_at: dt.datetime | None = None) -> FakeRun:
        with self._lock:
            if run_id is None:
                self._next_run_id += 1
                run_id = self._next_run_id
            run = FakeRun(id=run_id, owner=owner, repo=repo, workflow=workflow, branch=branch, event=event)
            if created_at is not None:
                run.created_at = created_at.replace(microsecond=0)
            self.runs[run_id] = run
            return run

    def set_run(self, run_id: int, status: str, *, conclusion: str | None = None,
                attempt: int | None = None) -> FakeRun:
        """Move a run on (queued → in_progress → completed with ``conclusion``); its ETag changes."""
        with self._lock:
            run = self.runs[run_id]
            now = dt.datetime.now(dt.UTC).replace(microsecond=0)
            run.status = status
            run.conclusion = conclusion if status == "completed" else None
            if status == "in_progress" and run.run_started_at is None:
                run.run_started_at = now
            if attempt is not None:
                run.attempt = attempt
            run.updated_at = now
            run.version += 1
            return run

    @property
    def run_lookups(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "GET" and _RUN_PATH.match(r.path.split("?", 1)[0])]

    @property
    def run_listings(self) -> list[Recorded]:
        return [r for r in self.requests
                if r.method == "GET" and _RUNS_LIST_PATH.match(r.path.split("?", 1)[0])]

    def workflow_run_event(self, run_id: int, action: str | None = None) -> dict:
        """The body of GitHub's ``workflow_run`` webhook delivery for the run as it is now."""
        with self._lock:
            run = self.runs[run_id]
            action = action or {"queued": "requested"}.get(run.status, run.status)
            return {"action": action, "workflow_run": run.as_json(self.url),
                    "repository": {"full_name": f"{run.owner}/{run.repo}"}}

    def _choose_run_lookup(self, request: Recorded) -> Reply:
        path, _, query = request.path.partition("?")
        if path in self.routes:
            return self.routes[path]
        if self.known_workflows is not None:
            listing = _RUNS_LIST_PATH.match(path)
            if listing and listing.group(3) not in self.known_workflows:
                return Reply(404, {"message": "Not Found"})
        with self._lock:
            single = _RUN_PATH.match(path)
            if single:
                owner, repo, run_id = single.groups()
                run = self.runs.get(int(run_id))
                if run is None or (run.owner, run.repo) != (owner, repo):
                    return Reply(404, {"message": "Not Found"})
                if request.headers.get("if-none-match") == run.etag:
                    self.not_modified += 1
                    return Reply(304, b"", {"ETag": run.etag})
                return Reply(200, run.as_json(self.url), {"ETag": run.etag})
            owner, repo, workflow = _RUNS_LIST_PATH.match(path).groups()
            params = dict(urllib.parse.parse_qsl(query))
            since = None
            if params.get("created", "").startswith(">="):
                since = dt.datetime.fromisoformat(params["created"][2:].replace("Z", "+00:00"))
            runs = [
                run for run in self.runs.values()
                if (run.owner, run.repo, run.workflow) == (owner, repo, workflow)
                and ("event" not in params or run.event == params["event"])
                and ("branch" not in params or run.branch == params["branch"])
                and (since is None or run.created_at >= since)
            ]
            runs.sort(key=lambda r: (r.created_at, r.id), reverse=True)
            listed = [r.as_json(self.url) for r in runs]
            return Reply(200, {"total_count": len(runs), "workflow_runs": listed})


class _SMTPHandler:
    def __init__(self, owner: SMTPServer):
        self.owner = owner

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.owner._lock:
            self.owner.envelopes.append(envelope)
            self.owner.messages.append(message)
        return "250 Message accepted for delivery"


class SMTPServer:
    """An aiosmtpd SMTP server on 127.0.0.1:<free port> in its own event-loop thread."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list = []
        self.host = "127.0.0.1"
        self.port = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server = None
        self._thread: threading.Thread | None = None

    def start(self) -> SMTPServer:
        from aiosmtpd.smtp import SMTP

        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="SMTPServer", daemon=True)
        self._thread.start()
        handler = _SMTPHandler(self)
        create = self._loop.create_server(lambda: SMTP(handler, hostname="cronhub-test"), self.host, 0)
        self._server = asyncio.run_coroutine_threadsafe(create, self._loop).result(timeout=5)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        if self._loop is None:
            return

        async def close():
            self._server.close()
            await self._server.wait_closed()

        try:
            asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=5)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
            self._loop.close()
            self._loop = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# --- pytest fixtures ------------------------------------------------------------------------------
@pytest.fixture
def webhook_server():
    with RecordingServer() as server:
        yield server


@pytest.fixture
def drip_server():
    with DripServer() as server:
        yield server


@pytest.fixture
def silent_server():
    with SilentServer() as server:
        yield server


@pytest.fixture
def fake_github(settings):
    with FakeGitHub() as server:
        settings.GITHUB_API_URL = server.url
        settings.GITHUB_TOKEN = FakeGitHub.TOKEN
        yield server


class SlackReceiver(RecordingServer):
    @property
    def messages(self) -> list[dict]:
        return [r.json() for r in self.requests]

    def enable(self, *, channel: str | None = None, path: str = "/services/T000/B000/XXXX"):
        """Point the global SlackSettings at this receiver (enabled)."""
        from integrations.models import SlackSettings

        slack = SlackSettings.load()
        slack.is_enabled = True
        slack.webhook_url = self.url_for(path)
        slack.channel = channel
        slack.save()
        return slack


@pytest.fixture
def slack_server():
    with SlackReceiver() as server:
        yield server


@pytest.fixture
def smtp_server(settings):
    with SMTPServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = server.host
        settings.EMAIL_PORT = server.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_TIMEOUT = 5
        yield server

