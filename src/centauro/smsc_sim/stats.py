"""What the simulator counts, and the two files tests and benchmarks read it from.

``--stats-file F`` is a JSON object of counters, replaced atomically (write, then rename)
so a reader never sees half of it. ``F.accepted`` gets one line per accepted submit_sm,
``MESSAGE_ID DESTINATION DIGEST TON NPI DATA_CODING SOURCE`` (a blake2b digest of
destination and body, never the text; the source address's TON and NPI, the PDU's
data_coding, and the source address last, as it may hold spaces), appended before the
JSON that counts it: "none missing at the SMSC" and "how many
duplicates" can be checked for runs of 100,000 messages without keeping any PDU.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

#: Bodies remembered for duplicate counting; past this, new ones are no longer compared.
MAX_TRACKED = 1_000_000


@dataclass(slots=True)
class Counters:
    binds_ok: int = 0
    binds_refused: int = 0
    drop_requests: int = 0
    drops: int = 0
    submit_received: int = 0
    submit_accepted: int = 0
    submit_throttled: int = 0
    submit_queue_full: int = 0
    submit_rejected: int = 0
    parts: int = 0
    duplicates: int = 0
    receipts_scheduled: int = 0
    receipts_sent: int = 0
    receipts_acked: int = 0
    receipts_nacked: int = 0
    receipts_dropped: int = 0
    mo_injected: int = 0
    mo_rejected: int = 0
    mo_sent: int = 0
    mo_acked: int = 0
    mo_dropped: int = 0
    stray_nuls: int = 0

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = asdict(self)
        data["receipts_pending"] = (
            self.receipts_scheduled - self.receipts_acked - (self.receipts_dropped)
        )
        data["mo_pending"] = self.mo_injected - self.mo_acked - self.mo_dropped
        return data


class Stats:
    """Counters, the digests of accepted bodies, and the writer of both files."""

    def __init__(self, path: Path | None) -> None:
        self.counters = Counters()
        self.path = path
        self.accepted_log = path.with_name(path.name + ".accepted") if path else None
        self._seen: set[bytes] = set()
        self._lines: list[str] = []
        self._written: dict[str, object] = {}

    def accepted(
        self,
        message_id: str,
        destination: str,
        body: bytes,
        source: tuple[int, int, str] = (0, 0, ""),
        data_coding: int = 0,
    ) -> None:
        digest = hashlib.blake2b(destination.encode() + b"\0" + body, digest_size=8).digest()
        if digest in self._seen:
            self.counters.duplicates += 1
        elif len(self._seen) < MAX_TRACKED:
            self._seen.add(digest)
        if self.path is not None:
            ton, npi, addr = source
            self._lines.append(
                f"{message_id} {destination} {digest.hex()} {ton} {npi} {data_coding} {addr}\n"
            )

    def changed(self, extra: dict[str, object]) -> bool:
        return self._written != {**self.counters.as_dict(), **extra}

    def write(self, extra: dict[str, object]) -> None:
        """Append the new accepted lines, then replace the JSON file in one rename."""
        if self.path is None or self.accepted_log is None:
            return
        if self._lines:
            with self.accepted_log.open("a") as f:
                f.writelines(self._lines)
            self._lines.clear()
        self._written = {**self.counters.as_dict(), **extra}
        data = {**self._written, "accepted_log": str(self.accepted_log), "pid": os.getpid()}
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps(data, indent=1))
        os.replace(temporary, self.path)
