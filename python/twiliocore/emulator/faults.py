"""Injected faults: 429, 500, 503, slow answers and dropped connections.

Each Twilio API request draws one number from a seeded random generator and gets at most
one fault, chosen by the configured probabilities::

    429         answered 429 / 20429 with Retry-After, not processed (like Twilio's limit)
    500, 503    answered 500 / 20500 or 503 / 20503, not processed
    slow        processed normally after ``slow_seconds``
    drop        connection closed before processing: nothing happened
    drop_after  processed (a create creates the message), then the connection is closed
                without an answer: the client cannot know the outcome

Written on the command line as ``--faults "429=0.1,500=0.05,drop_after=0.02,slow_seconds=2"``.
The same seed and the same request order give the same faults.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import SupportsFloat, SupportsIndex

__all__ = ["FAULT_KINDS", "FaultConfig", "FaultPicker"]

#: Fault kinds in the order their probability ranges are laid out.
FAULT_KINDS: tuple[str, ...] = ("429", "500", "503", "slow", "drop", "drop_after")

_ALIASES = {
    "rate_limit": "429",
    "server_error": "500",
    "unavailable": "503",
    "drop_before": "drop",
    "drop-before": "drop",
    "drop-after": "drop_after",
    "slow-seconds": "slow_seconds",
}


def _number(value: object) -> float:
    """``float(value)`` for what ``float`` accepts; ``TypeError`` for anything else."""
    if isinstance(value, (str, bytes, bytearray, SupportsFloat, SupportsIndex)):
        return float(value)
    raise TypeError(f"not a number: {type(value).__name__}")


@dataclass(frozen=True)
class FaultConfig:
    """Probabilities (0..1) of each fault, and how long a slow answer takes.

    Attributes:
        p429: probability of a 429 / 20429 answer.
        p500: probability of a 500 / 20500 answer.
        p503: probability of a 503 / 20503 answer.
        slow: probability of a slow (but correct) answer.
        drop: probability of a connection dropped before processing.
        drop_after: probability of a connection dropped after processing.
        slow_seconds: delay of a slow answer.
    """

    p429: float = 0.0
    p500: float = 0.0
    p503: float = 0.0
    slow: float = 0.0
    drop: float = 0.0
    drop_after: float = 0.0
    slow_seconds: float = 2.0

    @property
    def enabled(self) -> bool:
        """True when any fault has a non-zero probability."""
        return any(self.probabilities().values())

    def probabilities(self) -> dict[str, float]:
        """Return ``{kind: probability}`` for every kind in :data:`FAULT_KINDS`."""
        return {
            "429": self.p429,
            "500": self.p500,
            "503": self.p503,
            "slow": self.slow,
            "drop": self.drop,
            "drop_after": self.drop_after,
        }

    @classmethod
    def parse(cls, value: FaultConfig | Mapping[str, float] | str | None) -> FaultConfig:
        """Build a config from a mapping (``{"429": 0.1, "drop_after": 0.05}``) or a string.

        Raises:
            ValueError: naming the unknown kind or the bad probability.
        """
        if value is None:
            return cls()
        if isinstance(value, FaultConfig):
            return value
        items: list[tuple[str, object]]
        if isinstance(value, str):
            items = []
            for part in value.replace(";", ",").split(","):
                if not part.strip():
                    continue
                name, sep, text = part.partition("=")
                if not sep:
                    name, sep, text = part.partition(":")
                if not sep:
                    raise ValueError(f"faults: expected kind=probability, got {part.strip()!r}")
                items.append((name.strip(), text.strip()))
        else:
            items = list(value.items())
        names = {"429": "p429", "500": "p500", "503": "p503"}
        valid = {f.name for f in fields(cls)}
        kwargs: dict[str, float] = {}
        for raw_name, raw_number in items:
            name = _ALIASES.get(str(raw_name).lower(), str(raw_name).lower())
            attr = names.get(name, name)
            if attr not in valid:
                raise ValueError(
                    f"faults: unknown kind {raw_name!r} (known: {', '.join(FAULT_KINDS)},"
                    " slow_seconds)"
                )
            try:
                amount = _number(raw_number)
            except (TypeError, ValueError):
                raise ValueError(f"faults: {raw_name!r} must be a number") from None
            if attr == "slow_seconds":
                if amount < 0:
                    raise ValueError("faults: slow_seconds must not be negative")
            elif not 0.0 <= amount <= 1.0:
                raise ValueError(f"faults: probability of {raw_name!r} must be within 0..1")
            kwargs[attr] = amount
        config = cls(**kwargs)
        if sum(config.probabilities().values()) > 1.0 + 1e-9:
            raise ValueError("faults: probabilities add up to more than 1")
        return config


class FaultPicker:
    """Draws the fault (or none) of each request from one seeded generator.

    Thread-safe.

    Args:
        config: the probabilities.
        seed: seed of the generator; ``None`` for a random one.
    """

    def __init__(self, config: FaultConfig, seed: int | None) -> None:
        self.config = config
        self._seed = seed
        self._rng = random.Random(seed)  # noqa: S311 - simulation, not security
        self._lock = threading.Lock()

    def reset(self) -> None:
        """Restart the sequence from the seed."""
        with self._lock:
            self._rng = random.Random(self._seed)  # noqa: S311

    def pick(self) -> str | None:
        """Return the fault kind for the next request, or ``None``."""
        if not self.config.enabled:
            return None
        with self._lock:
            draw = self._rng.random()
        cumulative = 0.0
        for kind, probability in self.config.probabilities().items():
            cumulative += probability
            if draw < cumulative:
                return kind
        return None
