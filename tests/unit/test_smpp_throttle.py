"""The token bucket and rate meter, on a fake clock: no test here sleeps for real."""

from __future__ import annotations

import asyncio

import pytest

from centauro.connectors.smpp.throttle import RateMeter, TokenBucket


class FakeTime:
    """A clock that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def bucket(rate: float, fake: FakeTime, **options: float) -> TokenBucket:
    return TokenBucket(rate, clock=fake.clock, sleep=fake.sleep, **options)


def acquire_many(tokens: TokenBucket, n: int) -> None:
    async def main() -> None:
        for _ in range(n):
            await tokens.acquire()

    asyncio.run(main())


def test_unlimited_bucket_never_waits() -> None:
    fake = FakeTime()
    acquire_many(bucket(0, fake), 10_000)
    assert fake.sleeps == []


@pytest.mark.parametrize(("rate", "n"), [(10, 101), (100, 1010), (2.5, 11)])
def test_limited_bucket_spaces_tokens_at_its_rate(rate: float, n: int) -> None:
    fake = FakeTime()
    start = fake.now
    acquire_many(bucket(rate, fake), n)
    burst = max(1, rate * 0.1)
    assert fake.now - start == pytest.approx((n - burst) / rate)


def test_slow_down_halves_the_rate_for_a_while_then_restores_it() -> None:
    fake = FakeTime()
    tokens = bucket(100, fake)
    assert tokens.slow_down(0.5, 10.0)
    assert tokens.effective_rate == 50
    start = fake.now
    acquire_many(tokens, 101)  # 5 burst tokens at 50/s, then 96 more
    assert fake.now - start == pytest.approx(96 / 50)
    fake.now += 10
    assert tokens.effective_rate == 100
    assert not tokens.slowed


def test_complaints_within_the_settle_time_count_once_and_later_ones_compound() -> None:
    fake = FakeTime()
    tokens = bucket(100, fake, settle=1.0)
    assert tokens.slow_down(0.5, 10.0)
    assert not tokens.slow_down(0.5, 10.0)  # the rest of the same window of responses
    assert tokens.effective_rate == 50
    fake.now += 1.0
    assert tokens.slow_down(0.5, 10.0)
    assert tokens.effective_rate == 25


def test_slow_down_stops_at_the_minimum_rate() -> None:
    fake = FakeTime()
    tokens = bucket(4, fake, min_rate=1.0, settle=0.0)
    for _ in range(5):
        tokens.slow_down(0.5, 10.0)
    assert tokens.effective_rate == 1.0


def test_unlimited_bucket_slows_down_from_the_observed_rate() -> None:
    fake = FakeTime()
    tokens = bucket(0, fake)
    assert not tokens.slow_down(0.5, 5.0)  # nothing observed: nothing to halve
    assert tokens.effective_rate == 0
    assert tokens.slow_down(0.5, 5.0, observed=8000.0)
    assert tokens.effective_rate == 4000
    fake.now += 5.0
    assert tokens.effective_rate == 0


def test_pause_holds_every_token_until_it_ends_and_never_shortens() -> None:
    fake = FakeTime()
    tokens = bucket(0, fake)
    tokens.pause(2.0)
    tokens.pause(0.5)
    start = fake.now
    acquire_many(tokens, 3)
    assert fake.now - start == pytest.approx(2.0)


def test_waiters_are_served_in_arrival_order() -> None:
    fake = FakeTime()
    tokens = bucket(10, fake)
    order: list[int] = []

    async def take(i: int) -> None:
        await tokens.acquire()
        order.append(i)

    async def main() -> None:
        await asyncio.gather(*(take(i) for i in range(20)))

    asyncio.run(main())
    assert order == list(range(20))


def test_negative_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(-1)


def test_rate_meter_averages_complete_seconds() -> None:
    fake = FakeTime()
    meter = RateMeter(span=5, clock=fake.clock)
    for second in range(6):
        for _ in range(100 * (second + 1)):
            meter.tick()
        fake.now += 1
    # The last five complete seconds had 200..600 ticks.
    assert meter.rate() == pytest.approx((200 + 300 + 400 + 500 + 600) / 5)
    fake.now += 10
    assert meter.rate() == 0


def test_a_young_rate_meter_averages_the_seconds_it_has_seen() -> None:
    fake = FakeTime()
    meter = RateMeter(span=5, clock=fake.clock)
    for _ in range(300):
        meter.tick()
    assert meter.rate() == 0  # the first second is not complete yet
    fake.now += 1
    assert meter.rate() == 300
    fake.now += 1  # a silent second counts as one
    assert meter.rate() == 150
