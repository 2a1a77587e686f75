"""Which connectors may carry a message to a number, best first.

Routes match E.164 digit prefixes ("58414", "57", and "" for the default). The longest
matching prefix comes first and, within a prefix, the lowest priority number; routes
with shorter prefixes follow as fallbacks, the default last. The dispatcher tries the
candidates in this order, so a connector that is down hands its traffic to the next.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

MAX_PREFIX = 15  # E.164 numbers have at most 15 digits


@dataclass(frozen=True, slots=True)
class Route:
    prefix: str  #: E.164 digits without "+"; "" is the default route
    connector: str
    priority: int = 0  #: lower goes first among routes with the same prefix
    #: False: this connector is skipped for messages with an alphanumeric sender ID.
    allow_alphanumeric: bool = True


def parse_prefix(value: str) -> str:
    """``"+58 414"`` → ``"58414"``; ValueError unless it is up to 15 digits (or empty)."""
    digits = value.strip().removeprefix("+").replace(" ", "").replace("-", "")
    if digits and (not digits.isascii() or not digits.isdigit() or len(digits) > MAX_PREFIX):
        raise ValueError(f"a route prefix is up to {MAX_PREFIX} digits of an E.164 number")
    return digits


class RouteTable:
    """An immutable lookup over a set of routes."""

    def __init__(self, routes: list[Route]) -> None:
        by_prefix: dict[str, list[Route]] = defaultdict(list)
        for route in routes:
            by_prefix[route.prefix].append(route)
        self._by_prefix = {
            prefix: tuple(r.connector for r in sorted(found, key=lambda r: r.priority))
            for prefix, found in by_prefix.items()
        }
        self._no_alphanumeric = {
            (r.prefix, r.connector) for r in routes if not r.allow_alphanumeric
        }
        self._lengths = sorted({len(p) for p in self._by_prefix}, reverse=True)
        self.routes = list(routes)
        #: Candidates depend only on the number's first ``key_length`` digits.
        self.key_length = self._lengths[0] if self._lengths else 0

    def __bool__(self) -> bool:
        return bool(self._by_prefix)

    def candidates(self, recipient: str, *, alphanumeric: bool = False) -> list[str]:
        """Connector names for ``recipient`` (E.164, with or without "+"), best first;
        with ``alphanumeric``, only the routes that carry alphanumeric senders."""
        digits = recipient.removeprefix("+")
        names: list[str] = []
        refused = self._no_alphanumeric if alphanumeric else set()
        for length in self._lengths:
            prefix = digits[:length]
            found = self._by_prefix.get(prefix) if length <= len(digits) else None
            if found:
                names.extend(n for n in found if n not in names and (prefix, n) not in refused)
        return names
