"""The rate limiters and the login guard."""

from __future__ import annotations

from twiliocore_api.core.ratelimit import LoginGuard, RateLimiter


def test_limit_per_key():
    limiter = RateLimiter(2, 3600)
    assert limiter.hit("a") is None
    assert limiter.hit("a") is None
    retry = limiter.hit("a")
    assert retry is not None and 1 <= retry <= 3600
    assert limiter.hit("b") is None


def test_window_slides():
    limiter = RateLimiter(1, 0.000001)
    assert limiter.hit("a") is None
    import time

    time.sleep(0.01)
    assert limiter.hit("a") is None


def test_retry_after_looks_without_counting():
    limiter = RateLimiter(1, 3600)
    assert limiter.retry_after("a") is None
    assert limiter.retry_after("a") is None
    assert limiter.hit("a") is None
    assert limiter.retry_after("a") is not None


def test_the_login_guard_blocks_a_client_after_its_failures():
    guard = LoginGuard(failures_per_client=2, hashes=2)
    for _ in range(2):
        assert guard.blocked("10.0.0.1") is None
        guard.failed("10.0.0.1")
    assert guard.blocked("10.0.0.1") is not None
    assert guard.blocked("10.0.0.2") is None  # another address is not held back


def test_the_login_guard_bounds_checks_per_client_and_in_all():
    guard = LoginGuard(failures_per_client=100, hashes=2, per_client=1, wait_seconds=0.05)
    assert guard.acquire("a") is None
    assert guard.acquire("a") == "client"  # one at a time for this address
    assert guard.acquire("b") is None
    assert guard.acquire("c") == "busy"  # both checks taken, no place came free
    guard.release("a")
    assert guard.acquire("c") is None
    guard.release("b")
    guard.release("c")
    assert guard.acquire("a") is None
    guard.release("a")
