"""`serve` and `api`: bind the socket (a clear error if it is taken), run uvicorn, say where."""

from __future__ import annotations

import socket
from typing import Any

import structlog
import uvicorn

from service.commandline.errors import CommandError
from service.http.header_deadline import protocol_class

log = structlog.get_logger("http")
STARTUP_FAILURE = 3  # uvicorn's exit code when the app's startup fails


class _Server(uvicorn.Server):
    """uvicorn's server; logs `http.listening` once it accepts connections."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
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


def run(app: Any, sock: socket.socket, header_timeout_seconds: float) -> int:
    """Serve `app` on `sock` (from `bind`) until SIGTERM or SIGINT; the exit code.

    A client gets `header_timeout_seconds` to send a request's head (slow clients).
    """
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
        http=protocol_class(header_timeout_seconds),
    )
    server = _Server(config)
    try:
        server.run(sockets=[sock])
    except (
        KeyboardInterrupt
    ):  # SIGINT, re-raised after the graceful stop: as uvicorn.run
        pass
    finally:
        sock.close()
    return 0 if server.started else STARTUP_FAILURE
