"""An HTTP worker wakes the delivering sibling once per turn of its loop, not per send."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import pytest

from centauro.config import Settings
from centauro.runtime import Gateway, Siblings


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read, write = os.pipe()
    os.set_blocking(read, False)
    os.set_blocking(write, False)
    try:
        yield read, write
    finally:
        os.close(read)
        os.close(write)


def _waiting(fd: int) -> bytes:
    try:
        return os.read(fd, 4096)
    except BlockingIOError:
        return b""


def test_sends_answered_in_one_turn_wake_the_sibling_once(pipe: tuple[int, int]) -> None:
    read, write = pipe
    gateway = Gateway(Settings(database_url="sqlite://"), siblings=Siblings(wake_write=write))

    async def main() -> list[bytes]:
        seen = []
        for _ in range(50):  # a writer batch's sends, all answered in one turn
            gateway.queued()
        seen.append(_waiting(read))  # nothing yet: the byte goes at the end of the turn
        await asyncio.sleep(0)
        seen.append(_waiting(read))
        gateway.queued()  # a later turn: woken again
        await asyncio.sleep(0)
        seen.append(_waiting(read))
        return seen

    assert asyncio.run(main()) == [b"", b"w", b"w"]


def test_a_send_queued_off_the_loop_wakes_the_sibling_at_once(pipe: tuple[int, int]) -> None:
    read, write = pipe
    gateway = Gateway(Settings(database_url="sqlite://"), siblings=Siblings(wake_write=write))
    gateway.queued()
    assert _waiting(read) == b"w"
