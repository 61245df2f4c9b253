"""Bounded retries with exponential backoff and full jitter, for transient storage errors."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` tries in all; waits ``base_delay * 2**n`` (capped at ``max_delay``), randomised down to 0."""

    attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 5.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"RetryPolicy.attempts must be at least 1, got {self.attempts}.")

    def delay(self, attempt: int) -> float:
        return random.uniform(0, min(self.max_delay, self.base_delay * (2 ** attempt)))  # noqa: S311


def call_with_retries(fn: Callable[[], T], *, is_transient: Callable[[BaseException], bool], policy: RetryPolicy,
                      what: str, sleep: Callable[[float], None] = time.sleep) -> T:
    """Call ``fn``; on a transient error wait and try again, at most ``policy.attempts`` times in all."""
    for attempt in range(policy.attempts):
        try:
            return fn()
        except Exception as exc:
            if attempt + 1 >= policy.attempts or not is_transient(exc):
                raise
            wait = policy.delay(attempt)
            log.warning("Transient storage error on %s (attempt %s of %s): %s; retrying in %.2f s.",
                        what, attempt + 1, policy.attempts, type(exc).__name__, wait)
            sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover
