"""`serve` and `api`: bind the socket (a clear error if it is taken), run uvicorn, say where.

With several workers the socket is bound once and the process forks before anything
else exists (no thread, no database connection): each process builds its own app
and accepts on the shared socket. The first one is the primary (in `serve` it
projects and runs jobs); stopping it stops the others, each gracefully.

A companion is a process forked the same way that serves no requests (`serve`'s
jobs process with NATS). It lives as long as the primary: stopped with the others,
and if it ends on its own, the primary stops too and exits 1, so a supervisor
restarts the whole, never an API whose jobs no longer run.
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import functools
import logging
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import structlog
import uvicorn

from service.commandline.errors import CommandError
from service.http.app import end_streams
from service.http.header_deadline import protocol_class

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from types import FrameType

log = structlog.get_logger("http")
STARTUP_FAILURE = 3  # uvicorn's exit code when the app's startup fails
PR_SET_PDEATHSIG = 1  # linux/prctl.h
WORKER_STOP_SECONDS = 15.0  # uvicorn's graceful shutdown (10 s) and the app's stop
# A stop that outlasts this (a stuck thread, a lost wake-up) still ends the process,
# with every thread's stack on stderr to say where it hung: an operator's SIGTERM
# must never wait on the SIGKILL that follows it.
STOP_DEADLINE_SECONDS = 45.0


class AppFactory(Protocol):
    """Builds one process's ASGI app; the primary is the one that projects."""

    def __call__(self, *, primary: bool) -> Any: ...


@dataclass
class Companion:
    """A process forked beside the HTTP ones; `main` is its whole life (the exit code)."""

    name: str
    main: Callable[[], int]
    pid: int = 0
    # Set once the process has ended, however it did (the primary may wait for it).
    ended: threading.Event = field(default_factory=threading.Event)
    ended_early: bool = False  # on its own, before the primary stopped

    def wait_ended(self, seconds: float) -> bool:
        """Whether it ended within `seconds`."""
        return self.ended.wait(seconds)


class _Server(uvicorn.Server):
    """uvicorn's server; logs `http.listening` once it accepts connections.

    A primary passes a stop signal on to its `workers` at once (as SIGTERM: Ctrl-C
    sent them a SIGINT already), so all of them shut down gracefully side by side.
    """

    workers: tuple[int, ...] = ()
    on_exit: Callable[[], None] | None = None  # ends responses that would hold it
    stopping: threading.Event | None = None  # set as the stop begins
    # Set where the server is the whole process (`run`), never in a host process.
    stop_deadline: float | None = None
    # Stop signals that came before uvicorn listened for them (the primary builds
    # its app after forking): honoured once it does, or the stop would be lost.
    early_signals: list[int] | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.stopping is not None:
            self.stopping.set()
        super().handle_exit(sig, frame)
        if self.stop_deadline is not None:
            faulthandler.dump_traceback_later(self.stop_deadline, exit=True)
            self.stop_deadline = None  # a second signal keeps the first deadline
        if self.on_exit is not None:
            self.on_exit()
        for pid in self.workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)  # a second SIGINT would force-exit it

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        for sig in self.early_signals or ():
            self.handle_exit(sig, None)
        if self.started:
            for sock in sockets or []:
                host, port = sock.getsockname()[:2]
                log.info("http.listening", host=host, port=port)


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before the app starts; CommandError if it cannot be."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise CommandError(
            f"cannot listen on {host}:{port} (JOBSTREAM_HOST, JOBSTREAM_PORT): "
            f"{error.strerror or error}"
        ) from None
    sock.set_inheritable(True)
    return sock


def build_server(
    app: Any, header_timeout_seconds: float, workers: tuple[int, ...] = ()
) -> _Server:
    """The uvicorn server for `app`; a stop signal ends its live feeds at once."""
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
        http=protocol_class(header_timeout_seconds),
    )
    server = _Server(config)
    server.workers = workers
    server.on_exit = functools.partial(end_streams, app)
    return server


def run(  # noqa: PLR0913 - the stop's hooks are keyword-only
    app: Any,
    sock: socket.socket,
    header_timeout_seconds: float,
    workers: tuple[int, ...] = (),
    *,
    early_signals: list[int] | None = None,
    stopping: threading.Event | None = None,
) -> int:
    """Serve `app` on `sock` (from `bind`) until SIGTERM or SIGINT; the exit code.

    A client gets `header_timeout_seconds` to send a request's head (slow clients).
    `early_signals` are stop signals caught before the server could listen for them.
    `stopping` is set as the stop begins.
    """
    server = build_server(app, header_timeout_seconds, workers)
    server.stop_deadline = STOP_DEADLINE_SECONDS
    server.early_signals = early_signals
    server.stopping = stopping
    try:
        server.run(sockets=[sock])
    except (
        KeyboardInterrupt
    ):  # SIGINT, re-raised after the graceful stop: as uvicorn.run
        pass
    finally:
        sock.close()
    return 0 if server.started else STARTUP_FAILURE


def run_processes(
    build: AppFactory,
    sock: socket.socket,
    header_timeout_seconds: float,
    processes: int,
    companions: Sequence[Companion] = (),
) -> int:
    """Serve `build(primary)` from `processes` processes on `sock`; the exit code.

    `companions` are forked first and watched: one that ends before the stop ends
    the serving too (exit code 1).
    """
    workers: list[int] = []
    primary = os.getpid()
    for companion in companions:
        companion.pid = _fork_companion(companion, sock, primary)
    for _ in range(processes - 1):
        pid = os.fork()
        if pid == 0:  # a worker: serve until SIGTERM, never return into the caller
            code = STARTUP_FAILURE
            try:
                _end_with(primary)
                code = run(build(primary=False), sock, header_timeout_seconds)
            except BaseException as error:
                log.exception("http.worker_failed", error=repr(error))
            finally:
                os._exit(code)
        workers.append(pid)
    if not workers and not companions:
        return run(build(primary=True), sock, header_timeout_seconds)
    log.info("http.workers", processes=processes, pids=workers)
    stopping = threading.Event()
    for companion in companions:
        _watch(companion, stopping)
    # uvicorn re-raises the stop signal once it is done; caught here, the workers are
    # reaped first and then the process ends by it, as it would have. One caught
    # while the app is built (a worker may already answer) stops the server as
    # soon as it starts.
    caught: list[int] = []
    previous = {
        sig: signal.signal(sig, lambda sig, _: caught.append(sig))
        for sig in (signal.SIGTERM, signal.SIGINT)
    }
    others = (*workers, *(c.pid for c in companions))
    try:
        app = build(primary=True)
        code = run(
            app,
            sock,
            header_timeout_seconds,
            others,
            early_signals=caught,
            stopping=stopping,
        )
    finally:
        stopping.set()
        _stop_workers(workers)
        _stop_companions(companions)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if any(companion.ended_early for companion in companions):
        return 1
    if signal.SIGTERM in caught:
        signal.raise_signal(signal.SIGTERM)
    return code


def _fork_companion(companion: Companion, sock: socket.socket, primary: int) -> int:
    """Fork `companion`; its pid. The child never returns into the caller."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            sock.close()  # it answers no requests
            _end_with(primary)
            code = companion.main()
        except BaseException as error:
            log.exception(
                "http.companion_failed", name=companion.name, error=repr(error)
            )
        finally:
            os._exit(code)
    log.info("http.companion", name=companion.name, pid=pid)
    return pid


def _watch(companion: Companion, stopping: threading.Event) -> None:
    """Reap `companion` when it ends; ended before the stop, it stops the primary.

    A companion stops with exit code 0 only when signalled (by an operator, or a
    supervisor signalling every process): the primary then stops as it would have.
    Any other end is a failure, and the primary exits 1.
    """

    def wait() -> None:
        _, status = os.waitpid(companion.pid, 0)
        code = os.waitstatus_to_exitcode(status)
        if not stopping.is_set():
            companion.ended_early = code != 0
            log.log(
                logging.ERROR if code else logging.INFO,
                "http.companion_exited",
                name=companion.name,
                exit_code=code,
            )
            os.kill(os.getpid(), signal.SIGTERM)  # stops this server as an operator's
        companion.ended.set()

    threading.Thread(target=wait, name=f"watch-{companion.name}", daemon=True).start()


def _stop_companions(companions: Sequence[Companion]) -> None:
    """SIGTERM each companion still running; SIGKILL one that outlives the grace period.

    Their watchers reap them (`_watch`): only they wait on those pids.
    """
    for companion in companions:
        if not companion.ended.is_set():
            with contextlib.suppress(ProcessLookupError):
                os.kill(companion.pid, signal.SIGTERM)
    deadline = time.monotonic() + WORKER_STOP_SECONDS
    for companion in companions:
        if not companion.wait_ended(max(0.0, deadline - time.monotonic())):
            with contextlib.suppress(ProcessLookupError):
                os.kill(companion.pid, signal.SIGKILL)
            companion.wait_ended(WORKER_STOP_SECONDS)
            log.warning("http.companion_killed", name=companion.name)


def _end_with(primary: int) -> None:
    """Have the kernel kill this worker when the primary dies without stopping it.

    An orphan would go on holding the port (a restart could not bind it) and
    answering without a projection. A primary that stops normally SIGTERMs its
    workers first; one that died (SIGKILL, a crash) lost its own requests too, so
    its workers end at once rather than gracefully, and the port is free for a
    restart straight away.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
        log.warning("http.worker_unbound", errno=ctypes.get_errno())
    if os.getppid() != primary:  # it died before prctl took effect
        os._exit(0)


def _stop_workers(pids: list[int]) -> None:
    """SIGTERM each worker and reap it; SIGKILL one that outlives the grace period."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
    deadline = time.monotonic() + WORKER_STOP_SECONDS
    for pid in pids:
        while True:
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                break
            if done:
                if os.waitstatus_to_exitcode(status) not in {0, -signal.SIGTERM}:
                    log.warning("http.worker_exited", pid=pid, status=status)
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                log.warning("http.worker_killed", pid=pid)
                break
            time.sleep(0.05)
