"""Run ``centauro smsc-sim`` (a real SMPP 3.4 SMSC) as a separate process for tests.

    with start_smsc(tmp_path, dlr_delay=0, reject_prefix=["999"]) as smsc:
        client = smpp34.Client("127.0.0.1", smsc.port, smsc.system_id, smsc.password)
        ...
        stats = smsc.wait_for(lambda s: s["receipts_acked"] >= 10)

Every keyword of :func:`start_smsc` beyond the named ones is a command-line option:
``dlr_delay=0`` → ``--dlr-delay 0``, ``no_dlr_tlvs=True`` → ``--no-dlr-tlvs``, a list
repeats the option. The simulator listens on a port the OS picks (``--port 0``) unless
``port=`` is given, and always runs with ``--stats-file`` and ``--mo-file`` in ``workdir``.

``stats()`` is the simulator's JSON stats file, rewritten within 0.1 s of any change (at
least every 0.5 s) and on exit:

- binds: ``binds_ok``, ``binds_refused``; ``connections`` (open TCP connections) and
  ``sessions`` (bound ones) right now; ``drop_requests`` (``drop()`` calls) and ``drops``
  (connections closed without unbind by ``drop()`` or ``--drop-after``);
- submit_sm: ``submit_received`` = ``submit_accepted`` + ``submit_throttled`` (0x58)
  + ``submit_queue_full`` (0x14) + ``submit_rejected`` (bad address, data_coding, body);
  ``parts`` (accepted parts of multipart messages); ``duplicates`` (accepted again with the
  same destination and body);
- receipts: ``receipts_scheduled``, ``receipts_sent`` (written, retries included),
  ``receipts_acked``, ``receipts_nacked``, ``receipts_dropped``, ``receipts_pending``
  (scheduled - acked - dropped: "all receipts delivered" is ``receipts_pending == 0``);
- MO: ``mo_injected``, ``mo_rejected`` (bad lines), ``mo_sent``, ``mo_acked``,
  ``mo_dropped``, ``mo_pending``;
- ``stray_nuls``: smpp34's malformed deliver_sm refusals that were tolerated;
- ``submit_by_peer``: accepted submit_sm per peer "ip:port" (which gateway process sent what);
- ``port``, ``pid``, ``system_id``, ``accepted_log``.

``accepted()`` reads ``accepted_log``: one :class:`Accepted` per submit_sm accepted.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

STARTUP_TIMEOUT = 20.0

Stats = dict[str, Any]


@dataclass(frozen=True)
class Accepted:
    """One accepted submit_sm: the id it was given, its destination, a digest of its body."""

    message_id: str
    destination: str
    digest: str
    source_ton: int = 0
    source_npi: int = 0
    data_coding: int = 0
    source: str = ""


@dataclass
class SmscProcess:
    """A running simulator. Use as a context manager, or call :meth:`stop` yourself."""

    process: subprocess.Popen[bytes]
    workdir: Path
    system_id: str
    password: str
    stats_path: Path
    mo_path: Path
    log_path: Path
    port: int = 0

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def stats(self) -> Stats:
        """The latest stats the simulator wrote (``{}`` before the first write)."""
        try:
            data: Stats = json.loads(self.stats_path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}
        return data

    def wait_for(self, predicate: Callable[[Stats], bool], timeout: float = 10.0) -> Stats:
        """Poll the stats until ``predicate(stats)`` holds; raise ``TimeoutError`` otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            stats = self.stats()
            if stats and predicate(stats):
                return stats
            if time.monotonic() > deadline:
                raise TimeoutError(f"smsc-sim stats never matched; last: {stats}")
            if self.process.poll() is not None:
                raise RuntimeError(f"smsc-sim exited {self.process.returncode}:\n{self.log()}")
            time.sleep(0.05)

    def accepted(self) -> list[Accepted]:
        """Every submit_sm accepted so far (as of the last stats write), in order."""
        path = Path(self.stats().get("accepted_log") or "")
        if not path.is_file():
            return []
        rows = []
        for line in path.read_text().splitlines():
            message_id, destination, digest, ton, npi, coding, source = line.split(" ", 6)
            rows.append(
                Accepted(message_id, destination, digest, int(ton), int(npi), int(coding), source)
            )
        return rows

    def drop(self, timeout: float = 5.0) -> None:
        """Drop every connection abruptly (no unbind), as a carrier outage would; wait for it."""
        before = self.stats().get("drop_requests", 0)
        self.process.send_signal(signal.SIGUSR1)
        self.wait_for(lambda s: s.get("drop_requests", 0) > before, timeout)

    def inject_mo(
        self,
        source: str,
        destination: str,
        text: str,
        *,
        coding: str | None = None,
        **concat: object,
    ) -> None:
        """Queue a mobile-originated message; the simulator delivers it to a bound receiver.

        ``coding`` is ``"gsm7"`` or ``"ucs2"``; by default GSM-7 when the text fits it.
        ``concat`` sends it in parts (``concat="udh8"|"udh16"|"sar"``, ``parts``,
        ``part_octets``, ``ref``, ``order``: see ``centauro.smsc_sim.mo``).
        """
        record: dict[str, object] = {"from": source, "to": destination, "text": text, **concat}
        if coding is not None:
            record["coding"] = coding
        with self.mo_path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")

    def log(self) -> str:
        """What the simulator printed (stdout and stderr)."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM (a clean stop: stats written, sockets closed), then SIGKILL if it hangs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        return self.process.returncode

    def kill(self) -> None:
        """``kill -9``: no shutdown code runs, connections die with the process."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)

    def __enter__(self) -> SmscProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def options_to_args(options: dict[str, Any]) -> list[str]:
    """``{"dlr_delay": 0, "reject_prefix": ["9", "8"]}`` → ``--dlr-delay 0 --reject-prefix 9 …``."""
    args: list[str] = []
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            args.append(flag)
        elif value is False or value is None:
            continue
        elif isinstance(value, Iterable) and not isinstance(value, str | bytes):
            for item in value:
                args += [flag, str(item)]
        else:
            args += [flag, str(value)]
    return args


def start_smsc(
    workdir: Path,
    *,
    system_id: str = "centauro",
    password: str = "secret",
    port: int = 0,
    name: str = "smsc",
    **options: Any,
) -> SmscProcess:
    """Start ``python -m centauro smsc-sim`` on loopback and wait until it accepts connections.

    ``name`` prefixes the files it keeps in ``workdir`` (``smsc.stats.json``, ``smsc.mo``,
    ``smsc.log``), so several simulators can share one directory.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    stats_path = workdir / f"{name}.stats.json"
    mo_path = workdir / f"{name}.mo"
    log_path = workdir / f"{name}.log"
    for stale in (stats_path, mo_path):
        stale.unlink(missing_ok=True)
    mo_path.touch()
    args = [
        sys.executable,
        "-m",
        "centauro",
        "smsc-sim",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--system-id",
        system_id,
        "--password",
        password,
        "--stats-file",
        str(stats_path),
        "--mo-file",
        str(mo_path),
        *options_to_args(options),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CENTAURO_")}
    env["PYTHONUNBUFFERED"] = "1"
    with log_path.open("ab") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=workdir)
    smsc = SmscProcess(process, workdir, system_id, password, stats_path, mo_path, log_path)
    try:
        smsc.port = int(smsc.wait_for(lambda s: s.get("port", 0) > 0, STARTUP_TIMEOUT)["port"])
        _wait_accepting(smsc)
    except BaseException:
        smsc.kill()
        raise
    return smsc


def _wait_accepting(smsc: SmscProcess) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        try:
            with socket.create_connection((smsc.host, smsc.port), timeout=1.0):
                return
        except OSError:
            if time.monotonic() > deadline or smsc.process.poll() is not None:
                raise RuntimeError(
                    f"smsc-sim is not accepting connections:\n{smsc.log()}"
                ) from None
            time.sleep(0.05)
