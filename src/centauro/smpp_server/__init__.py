"""The SMPP 3.4 server customers bind to: a door beside ``api/``, calling ``service/``.

``serve --smpp-port 2775`` runs it in the API's process on the same gateway (store,
writer, dispatcher); with ``--workers N`` in one HTTP worker, on a socket the parent bound
(docs/architecture.md). :func:`door` is what ``serve`` hands to ``create_app``.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from centauro.runtime import Gateway
from centauro.smpp_server.server import SmppServer


def door(
    host: str, port: int, sock: socket.socket | None = None
) -> Callable[[Gateway], AbstractAsyncContextManager[SmppServer]]:
    """A door for ``create_app``: the SMPP server on ``host:port`` (or on ``sock``, a
    listening socket already bound there) for a gateway's life."""

    @asynccontextmanager
    async def run(gateway: Gateway) -> AsyncIterator[SmppServer]:
        server = SmppServer(gateway, host=host, port=port, sock=sock)
        await server.start()
        try:
            yield server
        finally:
            await server.stop()

    return run


__all__ = ["SmppServer", "door"]
