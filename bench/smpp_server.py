"""The SMPP server door end to end, against the HTTP door on the same chain.

Starts ``centauro smsc-sim`` (receipts at once) and ``centauro serve --smpp-port`` on a
fresh SQLite file with one SMPP connector (window 64) to the simulator. Per run:

* SMPP door: one transceiver bind sends N submit_sm (registered_delivery=1) keeping
  ``--window`` in flight, and acknowledges every receipt: N / (first submit → last receipt
  back on the bind), and serve's CPU seconds per message;
* HTTP door: N single-recipient ``GET /http/`` with the same number in flight, until every
  message is ``delivered`` (bench/e2e_smpp.py's run): its rate and CPU per message;
* Kannel (when installed), in every round between ours: its ``sendsms`` HTTP door, bound to
  a simulator of its own (same settings), N requests with the same number in flight, until
  that simulator has N receipts acknowledged by Kannel.

Usage: python bench/smpp_server.py [--n 10000] [--window 100] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import smpp34

from bench.common import Server, free_port, start_server
from bench.e2e_smpp import run_once, sim_stats, start_sim
from bench.loadgen import run_load
from centauro.connectors.smpp import pdu


async def smpp_run(port: int, system_id: str, password: str, n: int, window: int) -> float:
    """Seconds from the first submit_sm to the last of its n receipts."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(pdu.bind(pdu.BIND_TRANSCEIVER, 1, pdu.Bind(system_id, password, "")))
    framer = pdu.Framer()
    frames: list[bytes] = []
    while not frames:
        frames, _ = framer.feed(await reader.read(65536))
    if pdu.HEADER.unpack_from(frames[0])[2] != 0:
        raise SystemExit(f"bind refused: {frames[0][8:12].hex()}")
    in_flight = sent = receipts = refused = 0
    sequence = 1
    started = time.perf_counter()
    while receipts < n:
        chunk = []
        while sent < n and in_flight < window:
            sequence += 1
            chunk.append(
                smpp34.SubmitSm(
                    "CENTAURO",
                    f"58414{sent % 10_000_000:07d}",
                    b"Su pedido 4521 va en camino. Gracias por comprar en Centauro.",
                    dest_addr_ton=1,
                    registered_delivery=1,
                    sequence_number=sequence,
                ).encode()
            )
            sent += 1
            in_flight += 1
        if chunk:
            writer.write(b"".join(chunk))
        data = await reader.read(65536)
        if not data:
            raise SystemExit("the server closed the bind")
        frames, bad = framer.feed(data)
        if bad is not None:
            raise SystemExit("the server sent a PDU we cannot frame")
        answers = []
        for frame in frames:
            _, command_id, status, seq = pdu.HEADER.unpack_from(frame)
            if command_id == pdu.SUBMIT_SM_RESP:
                in_flight -= 1
                refused += status != 0
            elif command_id == pdu.DELIVER_SM:
                receipts += 1
                answers.append(pdu.deliver_sm_resp(seq))
            elif command_id == pdu.ENQUIRE_LINK:
                answers.append(pdu.response(command_id, seq))
        if answers:
            writer.write(b"".join(answers))
        if refused:
            raise SystemExit(f"{refused} submit_sm refused")
    elapsed = time.perf_counter() - started
    writer.write(pdu.unbind(sequence + 1))
    writer.close()
    return elapsed


KANNEL_CONF = """
group = core
admin-port = {admin}
admin-password = secret
smsbox-port = {smsbox}
box-allow-ip = 127.0.0.1
log-file = "{workdir}/bearerbox.log"
log-level = 4
dlr-storage = internal

group = smsbox
bearerbox-host = 127.0.0.1
sendsms-port = {sendsms}
log-file = "{workdir}/smsbox.log"
log-level = 4

group = sendsms-user
username = bench
password = bench
max-messages = 1

group = smsc
smsc = smpp
smsc-id = sim
host = 127.0.0.1
port = {sim_port}
transceiver-mode = true
smsc-username = centauro
smsc-password = secret
system-type = ""
dest-addr-ton = 1
dest-addr-npi = 1
max-pending-submits = 64
msg-id-type = 0x00
"""


def kannel_run(workdir: Path, sim_port: int, n: int, concurrency: int) -> float | None:
    """Kannel's sendsms → the simulator → receipts back to Kannel, in msg/s; None without it."""
    bearerbox, smsbox = shutil.which("bearerbox"), shutil.which("smsbox")
    if not (bearerbox and smsbox):
        return None
    sendsms = free_port()
    conf = workdir / "kannel.conf"
    conf.write_text(
        KANNEL_CONF.format(
            admin=free_port(), smsbox=free_port(), sendsms=sendsms, workdir=workdir,
            sim_port=sim_port,
        )
    )  # fmt: skip
    log = (workdir / "kannel-out.log").open("ab")
    boxes = [subprocess.Popen([bearerbox, str(conf)], stdout=log, stderr=subprocess.STDOUT)]
    try:
        time.sleep(3.0)  # bearerbox binds to the simulator
        boxes.append(subprocess.Popen([smsbox, str(conf)], stdout=log, stderr=subprocess.STDOUT))
        time.sleep(2.0)
        before = sim_stats(workdir).get("receipts_acked", 0)
        dlr = urllib.parse.quote("http://127.0.0.1:9/dlr?t=%d")

        def build(i: int) -> bytes:
            return (
                f"GET /cgi-bin/sendsms?username=bench&password=bench&from=CENTAURO"
                f"&to=58416{i:07d}&text=Su+pedido+4521+va+en+camino&dlr-mask=1&dlr-url={dlr} "
                f"HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            ).encode()

        started = time.perf_counter()
        result = asyncio.run(
            run_load(
                "127.0.0.1", sendsms, build, total=n, concurrency=concurrency,
                accept=lambda status, body: status == 202,
            )
        )  # fmt: skip
        if result.failed:
            raise SystemExit(f"Kannel refused {result.failed}: {result.first_failure}")
        deadline = time.monotonic() + 300
        while sim_stats(workdir).get("receipts_acked", 0) - before < n:
            if time.monotonic() > deadline:
                raise SystemExit("Kannel did not get every receipt within 300 s")
            time.sleep(0.05)
        return n / (time.perf_counter() - started)
    finally:
        for box in reversed(boxes):
            box.send_signal(signal.SIGTERM)
            try:
                box.wait(timeout=15)
            except subprocess.TimeoutExpired:
                box.kill()
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--window", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    smpp_port = free_port()
    server: Server = start_server(extra_env={"CENTAURO_SMPP_PORT": str(smpp_port)})
    sim_port = free_port()
    sim = start_sim(server.workdir, sim_port)
    # Kannel gets a simulator of its own: one shared with our bind (same system_id) sends
    # half of each side's receipts to the other, which then counts as Kannel's progress
    # and leaves us thousands of unknown receipts to keep.
    kannel_dir = server.workdir / "kannel"
    kannel_dir.mkdir()
    kannel_port = free_port()
    kannel_sim = start_sim(kannel_dir, kannel_port)
    try:
        server.cli(
            "connectors", "add", "sim", "--host", "127.0.0.1", "--port", str(sim_port),
            "--system-id", "centauro", "--password", "secret", "--window", "64", "--tps", "0",
        )  # fmt: skip
        server.cli("routes", "add", "--default", "--connector", "sim")
        login = json.loads(server.cli("accounts", "smpp-password", server.client_id, "--json"))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status = json.loads(server.cli("connectors", "status", "--json"))
            if any(c["name"] == "sim" and c["state"] == "up" for c in status["connectors"]):
                break
            time.sleep(0.2)
        # The delivering process reads routes every CENTAURO_RELOAD_SECONDS (2 s): before
        # that, an SMPP server in that process refuses every submit_sm as unroutable.
        time.sleep(3.0)
        db = sqlite3.connect(f"file:{server.workdir / 'bench.sqlite3'}?mode=ro", uri=True)
        asyncio.run(smpp_run(smpp_port, login["system_id"], login["password"], 1000, args.window))
        run_once(server, db, 9, 1000, args.window)  # warm-up of both doors
        smpp_rates, smpp_cpu, http_rates, http_cpu = [], [], [], []
        kannel: list[float] = []
        for run in range(args.runs):
            cpu = server.cpu_seconds()
            elapsed = asyncio.run(
                smpp_run(smpp_port, login["system_id"], login["password"], args.n, args.window)
            )
            smpp_cpu.append((server.cpu_seconds() - cpu) / args.n * 1e6)
            smpp_rates.append(args.n / elapsed)
            time.sleep(1.0)  # let the last records settle before the other door runs
            cpu = server.cpu_seconds()
            http_rates.append(run_once(server, db, run, args.n, args.window)["e2e"])
            http_cpu.append((server.cpu_seconds() - cpu) / args.n * 1e6)
            time.sleep(1.0)
            # Kannel in every round, between ours: its median is set against ours.
            rate = kannel_run(kannel_dir, kannel_port, args.n, args.window)
            if rate is not None:
                kannel.append(rate)

        def show(label: str, values: list[float], unit: str) -> None:
            runs = ", ".join(f"{v:,.0f}" for v in values)
            print(f"{label}: median {statistics.median(values):,.0f} {unit}  (runs: {runs})")

        show("SMPP door, submit_sm → receipt back on the bind", smpp_rates, "msg/s")
        show("SMPP door, serve CPU per message", smpp_cpu, "µs")
        show("HTTP door, GET /http/ → delivered", http_rates, "msg/s")
        show("HTTP door, serve CPU per message", http_cpu, "µs")
        if kannel:
            show("Kannel sendsms door → receipt back to Kannel", kannel, "msg/s")
            ratio = statistics.median(smpp_rates) / statistics.median(kannel)
            print(f"SMPP door ÷ Kannel (medians): {ratio:.2f}×")
        else:
            print("Kannel not installed: no comparison")
        print(f"peak RSS of centauro serve: {server.peak_rss_mb():.0f} MB")
    finally:
        for process in (sim, kannel_sim):
            process.terminate()
            process.wait(timeout=10)
        server.stop()


if __name__ == "__main__":
    main()
