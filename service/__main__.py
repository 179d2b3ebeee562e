"""`jobstream` / `python -m service`: serve the API, run its roles, manage users, audit."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import threading
from importlib import metadata
from typing import TYPE_CHECKING

import msgspec

from domain.errors import DomainError
from domain.users import User, UserRole
from service import data_dir
from service.audit import cli as audit_cli
from service.auth.passwords import hash_password
from service.bootstrap.process import Bootstrap
from service.commandline import variables
from service.commandline.arguments import CommandParser, at_least_one, command
from service.commandline.database import check_database
from service.commandline.errors import reported
from service.gc_tuning import tune_gc
from service.http.rendering import render_user
from service.logs import configure_logging
from service.malloc_tuning import tune_malloc
from service.metrics import multiprocess
from service.settings import Settings, load_settings

if TYPE_CHECKING:
    import argparse
    from collections.abc import AsyncIterator, Callable, Sequence
    from contextlib import AbstractAsyncContextManager

    from litestar import Litestar

    from service.commandline.http_server import Companion


def _parser() -> argparse.ArgumentParser:
    parser = CommandParser(prog="jobstream", description=__doc__)
    parser.add_argument(
        "--version",
        action="version",
        version=f"jobstream {metadata.version('jobstream')}",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = command(
        commands,
        "serve",
        "run everything on one machine: the HTTP API, the read models and the jobs "
        "(with JOBSTREAM_NATS_URL set, in a process of their own: a relay and a worker)",
    )
    relay = command(
        commands,
        "relay",
        "publish every stored event to the NATS JetStream stream, in order (the "
        "outbox; one relay leads per stream, others stand by); `relay replay` "
        "republishes past events",
    )
    command(
        commands,
        "worker",
        "run the batch jobs NATS JetStream delivers (pre-processing and processing), "
        "each under a lease",
    )
    api = command(
        commands,
        "api",
        "serve the HTTP API alone; run `projections`, `relay` and `worker` beside it",
    )
    for http in (serve, api):
        http.add_argument(
            "--workers",
            type=at_least_one,
            help="processes serving HTTP (JOBSTREAM_HTTP_WORKERS; default: one per core)",
        )
    projections = command(
        commands,
        "projections",
        "keep the read models (batch jobs, catalog) up to date and fail stuck jobs; "
        "or: status, rebuild, parked",
    )
    user = command(commands, "user", "manage the users who call the API")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    create = command(
        user_commands,
        "create",
        "create a user, as `medusa user -e -p` does, and print it as JSON",
    )
    create.add_argument("--email", "-e", required=True)
    create.add_argument("--password", "-p", required=True)
    create.add_argument("--api-token", help="a token for x-medusa-access-token")
    create.add_argument("--role", choices=[r.value for r in UserRole], default="admin")
    create.add_argument("--id", dest="user_id", help="default: a new usr_… id")
    create.add_argument("--first-name")
    create.add_argument("--last-name")
    audit_cli.register(commands, projections, relay)
    variables.describe(parser)
    return parser


def serve(settings: Settings, *, roles: str = "serve") -> int:
    """Serve HTTP: `serve` with every role, `api` alone, from one or more processes.

    `serve` runs jobs in process, or with JOBSTREAM_NATS_URL in a jobs process of its
    own (the relay and a worker: service.all_roles). Alone, the API's jobs run on
    workers and its read model is kept by `jobstream projections`. With several HTTP
    processes (`--workers`), the process forks before anything is built; only the
    primary of `serve` projects (and, without NATS, runs jobs), the others answer
    requests.
    """
    from service.bootstrap.secrets import resolve_secrets  # noqa: PLC0415
    from service.commandline import http_server  # noqa: PLC0415 - the HTTP roles only

    listening = http_server.bind(settings.host, settings.port)  # taken: say so first
    processes = settings.http_processes
    # Before the fork: every HTTP process (and a worker beside them) writes its
    # instruments where a scrape of any of them reads them all.
    multiprocess.enable(settings.data_path, clean=True)
    if not settings.is_postgres:
        resolve_secrets(settings)  # once, before the processes that share them start
    companions = []
    if roles == "serve" and settings.nats_url is not None:
        from service.all_roles import run_jobs_process  # noqa: PLC0415

        companions.append(
            http_server.Companion("jobs", lambda: run_jobs_process(settings))
        )

    def build(*, primary: bool) -> Litestar:
        # Several HTTP processes, a jobs process, or `api` beside the processes that
        # project and run jobs: others store events too, unheard here.
        bootstrap = Bootstrap(
            settings,
            project=primary and roles != "api",
            other_writers=processes > 1 or roles == "api" or bool(companions),
        )
        return http_app(
            bootstrap, roles=roles, primary=primary, companions=tuple(companions)
        )

    return http_server.run_processes(
        build, listening, settings.header_timeout_seconds, processes, companions
    )


def http_app(
    bootstrap: Bootstrap,
    *,
    roles: str = "serve",
    primary: bool = True,
    companions: tuple[Companion, ...] = (),
) -> Litestar:
    """The app of `serve` (every role) or `api` (alone), over the process's parts.

    Of several HTTP processes only the `primary` runs jobs (without NATS). Its
    lifespan starts the roles and, when it ends, closes the bootstrap, once the
    `companions` (`serve`'s jobs process) have stopped: the jobs they finish while
    stopping are projected before the read models stop.
    """
    from service.http.app import create_app  # noqa: PLC0415 - the HTTP roles only
    from service.runtime import Runtime  # noqa: PLC0415

    settings = bootstrap.settings
    alone = roles == "api"
    over_nats = not alone and settings.nats_url is not None
    runtime = Runtime(
        settings,
        process_jobs=primary and not alone and not over_nats,
        bootstrap=bootstrap,
    )
    extra = [outlived(companions)] if primary and companions else []
    return create_app(runtime, roles=extra)


def outlived(
    companions: tuple[Companion, ...],
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """A lifespan whose end waits (a bounded time) for the companions to end."""
    from service.commandline.http_server import WORKER_STOP_SECONDS  # noqa: PLC0415

    @contextlib.asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        yield
        for companion in companions:
            await asyncio.to_thread(companion.wait_ended, WORKER_STOP_SECONDS)

    return lifespan


def run_projections(settings: Settings) -> None:
    """`projections`: keep the read models up to date until SIGTERM or SIGINT."""
    from service.runtime import Runtime  # noqa: PLC0415 - only this role

    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    runtime = Runtime(settings, process_jobs=False, bootstrap=Bootstrap(settings))
    runtime.start()
    try:
        stopped.wait()
    finally:
        runtime.stop()


def create_user(settings: Settings, args: argparse.Namespace) -> int:
    bootstrap = Bootstrap(settings)
    app = bootstrap.app
    try:
        user = app.register_user(
            User.register(
                email=args.email,
                password_hash=hash_password(args.password),
                actor="cli",
                api_token=args.api_token,
                role=UserRole(args.role),
                first_name=args.first_name,
                last_name=args.last_name,
                user_id=args.user_id,
            )
        )
    except DomainError as error:
        failure = {"type": error.type, "message": error.message}
        sys.stdout.write(msgspec.json.encode(failure).decode() + "\n")
        return 1
    finally:
        bootstrap.close()
    sys.stdout.write(msgspec.json.encode(render_user(user)).decode() + "\n")
    return 0


# The commands that run until stopped: their memory must stay flat over days.
LONG_RUNNING = frozenset({"serve", "api", "projections", "relay", "worker"})


def main(argv: Sequence[str] | None = None) -> int:
    """The exit code; a problem the user can fix is one line on stderr (no traceback)."""
    return reported(lambda: _run(argv))


def _run(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    tune_gc()
    if args.command in LONG_RUNNING:
        tune_malloc()
    data_dir.private_files()  # API tokens and secrets are in the files it writes
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    nats_only = getattr(args, "events_action", None) == "tail"
    if settings.database_url is not None and not nats_only:
        check_database(settings.database_url)
    audited = audit_cli.run(settings, args)
    if audited is not None:
        return audited
    if args.command in {"serve", "api"}:
        if args.workers is not None:
            settings = msgspec.structs.replace(settings, http_workers=args.workers)
        return serve(settings, roles=args.command)
    if args.command == "projections":
        run_projections(settings)
        return 0
    if args.command == "relay":
        from service.relay_process import serve_relay  # noqa: PLC0415 - relay role only

        asyncio.run(serve_relay(settings))
        return 0
    if args.command == "worker":
        from service.worker_process import serve_worker  # noqa: PLC0415 - worker role only

        multiprocess.enable(settings.data_path, clean=False)
        asyncio.run(serve_worker(settings))
        return 0
    return create_user(settings, args)


if __name__ == "__main__":
    sys.exit(main())
