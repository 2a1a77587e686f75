"""One worker of ``centauro serve --workers N``: uvicorn on the socket its parent bound.

Forked by :mod:`centauro.cli.workers` from a parent that has already imported the server
stack (a worker is up in a fraction of a second and shares those pages), with the listening
socket, the SQLite serve lock and the wake-up pipe inherited as file descriptors.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import sys
from dataclasses import dataclass

from centauro.config import Settings

PR_SET_PDEATHSIG = 1
#: Exit status of a worker whose start failed (uvicorn's own): the parent gives up.
STARTUP_FAILED = 3
#: Seconds uvicorn waits for open requests at a stop; the gateway's stop comes after, and
#: the parent kills what is left at :data:`centauro.cli.workers.STOP_SECONDS`.
GRACEFUL_SECONDS = 4


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    index: int
    parent: int  #: the parent's pid: we exit if it is gone before we could watch it
    fd: int  #: the listening HTTP socket
    delivers: bool  #: runs the dispatcher, scheduler and webhook sender
    http: bool  #: accepts on the HTTP socket (the delivering worker does not)
    lock_held: bool  #: the parent holds the SQLite serve lock for us
    wake_read: int
    wake_write: int
    access_log: bool = False
    smpp_host: str = ""
    smpp_fd: int = -1  #: the listening SMPP socket, in the one worker that runs the server
    deliveries_read: int = -1  #: woken by the delivering worker (in the SMPP server's)
    deliveries_write: int = -1  #: wakes the SMPP server's worker (in the delivering one)


def die_with_parent(parent: int) -> None:
    """Ask Linux to SIGKILL us when the parent dies (``kill -9`` included): no orphans."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # it died before the request above took effect
        os._exit(1)


def preload() -> None:
    """Import the server stack in the parent, before any fork (see the module docstring)."""
    import uvicorn  # noqa: F401
    import uvloop  # noqa: F401

    import centauro.api.app
    import centauro.smpp_server  # noqa: F401


def _fd(fd: int) -> int | None:
    return fd if fd >= 0 else None


def run(spec: WorkerSpec, settings: Settings) -> int:
    """The worker's whole life, in the forked child; its exit status."""
    die_with_parent(spec.parent)
    for sig in (signal.SIGINT, signal.SIGTERM):  # the parent's handlers: uvicorn sets its own
        signal.signal(sig, signal.SIG_DFL)

    import uvicorn

    from centauro.api.app import Door, create_app
    from centauro.api.protocol import HttpLimits, protocol_for
    from centauro.logs import configure_logging
    from centauro.process import tune_gc
    from centauro.runtime import Siblings

    s = settings
    configure_logging(s.log_level, s.log_format)
    doors: list[Door] = []
    if spec.smpp_fd >= 0:
        from centauro import smpp_server

        listening = socket.socket(fileno=os.dup(spec.smpp_fd))
        doors.append(smpp_server.door(spec.smpp_host, 0, listening))
    siblings = Siblings(
        lock_held=spec.lock_held,
        wake_write=spec.wake_write,
        wake_read=spec.wake_read if spec.delivers else None,
        deliveries_write=_fd(spec.deliveries_write),
        deliveries_read=_fd(spec.deliveries_read),
    )
    app = create_app(s, migrate=False, doors=doors, siblings=siblings)
    sock = socket.socket(fileno=os.dup(spec.fd))  # family and type read from the descriptor
    config = uvicorn.Config(
        app,
        loop="uvloop",
        http=protocol_for(HttpLimits.from_settings(s)),
        access_log=spec.access_log,
        log_level=s.log_level.lower(),
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
        log_config=None,
    )
    server = uvicorn.Server(config)
    tune_gc()
    try:
        server.run(sockets=[sock] if spec.http else [])
    except SystemExit as exc:  # uvicorn's own exit, e.g. status 3 when the app cannot start
        return exc.code if isinstance(exc.code, int) else 1
    except Exception:
        logging.getLogger("centauro.workers").exception(
            "worker_failed", extra={"action": "worker_failed", "worker": spec.index}
        )
        return STARTUP_FAILED if not server.started else 1
    return 0 if server.started else STARTUP_FAILED
