"""Sizes, durations and ages in words for the page."""

from __future__ import annotations


def human_bytes(value: int | float | None) -> str:
    if value is None:
        return "—"
    if value < 1024:
        return f"{int(value)} B"
    size = float(value)
    for unit in ("KiB", "MiB", "GiB"):
        size /= 1024
        if size < 1024:
            return f"{size:.1f} {unit}"
    return f"{size / 1024:.1f} TiB"


def human_seconds(value: float | None) -> str:
    """``42 s``, ``3 min 5 s``, ``5 h 12 min``, ``2 d 3 h``; ``—`` for None."""
    if value is None:
        return "—"
    seconds = int(round(value))
    if seconds < 60:
        return f"{value:.1f} s" if value < 10 else f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"
