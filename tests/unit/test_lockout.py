"""Failed sign-in counting (pure logic, a settable clock)."""

from __future__ import annotations

from centauro.api.lockout import Lock, Lockouts, Policy


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


POLICY = Policy(client_failures=3, address_failures=5, window=60.0, lock_seconds=300.0)


def test_client_id_locks_after_its_failures_within_the_window() -> None:
    clock = Clock()
    locks = Lockouts(POLICY, clock)
    assert locks.failed("abc", "10.0.0.1") == []
    assert locks.failed("abc", "10.0.0.2") == []
    assert locks.failed("abc", "10.0.0.3") == [Lock("client_id", "abc", 300.0)]
    assert locks.client_locked("abc") == 300.0
    assert locks.client_locked("other") == 0.0
    clock.now += 299.0
    assert locks.client_locked("abc") == 1.0
    clock.now += 1.0
    assert locks.client_locked("abc") == 0.0


def test_failures_spread_wider_than_the_window_do_not_lock() -> None:
    clock = Clock()
    locks = Lockouts(POLICY, clock)
    for _ in range(10):
        assert locks.failed("abc", "") == []
        clock.now += 31.0
    assert locks.client_locked("abc") == 0.0


def test_failures_while_locked_start_no_second_lockout() -> None:
    clock = Clock()
    locks = Lockouts(POLICY, clock)
    started = [lock for _ in range(50) for lock in locks.failed("abc", "")]
    assert started == [Lock("client_id", "abc", 300.0)]


def test_an_address_spraying_many_ids_is_locked_once() -> None:
    clock = Clock()
    locks = Lockouts(POLICY, clock)
    started = [lock for i in range(40) for lock in locks.failed(f"id{i}", "10.0.0.9")]
    assert started == [Lock("ip", "10.0.0.9", 300.0)]
    assert locks.address_locked("10.0.0.9") == 300.0
    assert locks.address_locked("10.0.0.8") == 0.0
