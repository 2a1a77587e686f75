"""``centauro serve --workers N``: a small parent that binds the port once and runs N workers.

The parent binds the HTTP socket, takes the SQLite serve lock (its workers inherit both),
imports the server stack and forks N workers (:mod:`centauro.cli.worker`); it starts no
thread, event loop or database connection of its own, so a fork is safe. Worker
0 delivers (dispatcher, scheduler, webhook sender, presence) and answers no HTTP; workers
1..N-1 answer HTTP on the shared socket (with delivery switched off, every worker answers
HTTP). The SMPP server for customers (``--smpp-port``, its socket bound here too) runs in
one worker, :func:`smpp_worker`. A worker that dies is started again after a backoff;
the workers die with the parent (``PR_SET_PDEATHSIG``); SIGINT/SIGTERM stop them all
within :data:`STOP_SECONDS`. docs/architecture.md says why this shape.
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass, replace
from types import FrameType
from typing import IO

from centauro.cli import worker
from centauro.cli.worker import STARTUP_FAILED, WorkerSpec
from centauro.config import Settings

log = logging.getLogger("centauro.workers")

#: Seconds from SIGINT/SIGTERM until every worker is gone (SIGKILL for the late ones).
STOP_SECONDS = 9.0
#: Restart backoff: first wait, doubled per quick crash up to the max; reset once a
#: worker has lived :data:`HEALTHY_SECONDS`.
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 10.0
HEALTHY_SECONDS = 30.0
TICK = 0.1


def _forget_metrics_of(pid: int) -> None:
    """A worker is gone: its live gauges leave the multiprocess /metrics sum."""
    from centauro import metrics

    metrics.worker_exited(pid)


def default_workers() -> int:
    """One worker per CPU this process may run on."""
    return max(1, len(os.sched_getaffinity(0)))


def smpp_worker(workers: int, delivers: bool) -> int:
    """The one worker that runs the SMPP server: the first HTTP worker, so the delivering
    worker's core is left to delivery (docs/architecture.md has the figures); worker 0 when
    it is the only one or does not deliver. One process holds every bind, so per-account
    bind limits and rates stay exact."""
    return 1 if delivers and workers > 1 else 0


def bind(host: str, port: int, *, wait: float = 0.0) -> socket.socket:
    """The listening socket every worker accepts from (bound once, here). A port still
    held is tried again for ``wait`` seconds: the workers of a ``serve`` killed a moment
    ago hold it until the kernel has finished them."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    deadline = time.monotonic() + wait
    while True:
        try:
            sock = socket.create_server((host, port), family=family, backlog=2048)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE and time.monotonic() < deadline:
                time.sleep(TICK)
                continue
            raise
        sock.set_inheritable(True)
        return sock


def _pipe() -> tuple[int, int]:
    """A wake-up pipe between workers; its write end never blocks the writer."""
    read, write = os.pipe()
    os.set_blocking(write, False)
    return read, write


class Child:
    """A forked worker: its pid and, once reaped, its exit status (Popen's vocabulary)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def wait(self, timeout: float) -> bool:
        """Whether it exited within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True


@dataclass
class _Slot:
    spec: WorkerSpec
    settings: Settings
    process: Child | None = None
    started: float = 0.0
    starts: int = 0
    crashes: int = 0
    not_before: float = 0.0


class StartupFailed(Exception):
    """A worker could not start the first time (a setting, the store): give up."""


class Parent:
    """Runs the workers until a signal; see the module docstring."""

    def __init__(
        self,
        sock: socket.socket,
        *,
        workers: int,
        settings: Settings,
        lock: IO[bytes] | None,
        access_log: bool = False,
        smpp_host: str = "",
        smpp: socket.socket | None = None,
    ) -> None:
        self._sock = sock
        self._smpp = smpp
        self._lock = lock
        wake_read, wake_write = _pipe()
        self._pipes = [wake_read, wake_write]
        base = WorkerSpec(
            index=0,
            parent=os.getpid(),
            fd=sock.fileno(),
            delivers=settings.delivers,
            http=not settings.delivers,
            lock_held=lock is not None,
            wake_read=wake_read,
            wake_write=wake_write,
            access_log=access_log,
            smpp_host=smpp_host,
        )
        specs = [base] + [
            replace(base, index=i, delivers=False, http=True) for i in range(1, workers)
        ]
        if smpp is not None:
            at = smpp_worker(workers, settings.delivers)
            specs[at] = replace(specs[at], smpp_fd=smpp.fileno())
            if at != 0 and settings.delivers:  # receipts stored by worker 0 wake it
                deliveries_read, deliveries_write = _pipe()
                self._pipes += [deliveries_read, deliveries_write]
                specs[0] = replace(specs[0], deliveries_write=deliveries_write)
                specs[at] = replace(specs[at], deliveries_read=deliveries_read)
        self._slots = [_Slot(spec, replace(settings, dispatcher=spec.delivers)) for spec in specs]
        self._stopping = False

    # -- life cycle ---------------------------------------------------------------------

    def run(self) -> None:
        """Start the workers and keep them running until SIGINT/SIGTERM; then stop them."""
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            worker.preload()
            for slot in self._slots:
                self._start(slot)
            while not self._stopping:
                time.sleep(TICK)
                self._tend()
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self._stopping = True

    def pids(self) -> list[int]:
        return [s.process.pid for s in self._slots if s.process is not None]

    def _start(self, slot: _Slot) -> None:
        sys.stdout.flush()  # or the child would write the parent's buffered lines again
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the parent's code
            status = 1
            try:
                status = worker.run(slot.spec, slot.settings)
            finally:
                os._exit(status)
        slot.process = Child(pid)
        slot.started = time.monotonic()
        slot.starts += 1
        log.info(
            "worker_started",
            extra={
                "action": "worker_started",
                "worker": slot.spec.index,
                "pid": slot.process.pid,
                "delivers": slot.spec.delivers,
            },
        )

    def _tend(self) -> None:
        """Restart the workers that exited, each after its backoff."""
        now = time.monotonic()
        for slot in self._slots:
            process = slot.process
            if process is not None:
                code = process.poll()
                if code is None:
                    continue
                slot.process = None
                _forget_metrics_of(process.pid)
                if code == STARTUP_FAILED and slot.starts == 1:
                    raise StartupFailed(f"worker {slot.spec.index} could not start")
                lived = now - slot.started
                slot.crashes = 0 if lived >= HEALTHY_SECONDS else slot.crashes + 1
                wait = min(BACKOFF_FIRST * 2 ** max(slot.crashes - 1, 0), BACKOFF_MAX)
                slot.not_before = now + wait
                log.warning(
                    "worker_exited",
                    extra={
                        "action": "worker_exited",
                        "worker": slot.spec.index,
                        "pid": process.pid,
                        "status": code,
                        "restart_in": wait,
                    },
                )
            if now >= slot.not_before and not self._stopping:
                self._start(slot)

    def stop(self) -> None:
        """SIGTERM to every worker; SIGKILL to those still running at the deadline."""
        self._stopping = True
        running = [s.process for s in self._slots if s.process is not None]
        for process in running:
            process.signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for process in running:
            if not process.wait(max(deadline - time.monotonic(), 0.01)):
                log.warning("worker_killed", extra={"action": "worker_killed", "pid": process.pid})
                process.signal(signal.SIGKILL)
                process.wait(5.0)
        for slot in self._slots:
            slot.process = None
        for fd in self._pipes:
            os.close(fd)
        self._pipes = []
        self._sock.close()
        if self._smpp is not None:
            self._smpp.close()
        if self._lock is not None:
            self._lock.close()
            self._lock = None
