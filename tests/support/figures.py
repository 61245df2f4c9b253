"""Counters the reliability tests add to where a fault really happened; the suite prints them at the end
(tests/conftest.py adds up the xdist workers' counts) and docs/reliability.md quotes one run's figures."""

from __future__ import annotations

FIGURES: dict[str, int] = {}


def count(name: str, n: int = 1) -> None:
    FIGURES[name] = FIGURES.get(name, 0) + n


def merge(figures: dict[str, int]) -> None:
    """Add another process's counts (an xdist worker's) to this one's."""
    for name, n in figures.items():
        count(name, n)
