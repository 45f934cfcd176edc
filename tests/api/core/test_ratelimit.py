"""The per-user send limiter."""

from __future__ import annotations

from twiliocore_api.core.ratelimit import RateLimiter


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
