"""The timeline of one database's snapshots as inline SVG, drawn on the server (the page needs no script and no
network): one mark per snapshot with a time, at the time it was taken; above the axis a bar for its size, below
it a bar for how long it took; full and incremental in two colours, a snapshot that is not OK hollow. Each mark
links to the page with that snapshot chosen, so its chain shows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from html import escape
from typing import Any

from sr_airflow.ui.units import human_bytes, human_seconds

WIDTH, HEIGHT = 900, 190
LEFT, RIGHT, TOP, AXIS_Y, BOTTOM = 70, 20, 14, 100, 160  # the size lane is TOP..AXIS_Y, duration AXIS_Y..BOTTOM
COLOURS = {"full": "#1f6feb", "incremental": "#2da44e"}


def timeline_svg(rows: Sequence[dict[str, Any]], *, link: Callable[[dict[str, Any]], str],
                 selected: str | None = None) -> str:
    """The chart of ``rows`` (``snapshot_rows`` of one database); ``link(row)`` is each mark's URL."""
    placed = [(datetime.fromisoformat(r["taken_at"]), r) for r in rows if r.get("taken_at")]
    placed.sort(key=lambda item: item[0])
    parts = [f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'width="100%" role="img" aria-label="snapshots over time">',
             f'<line x1="{LEFT}" y1="{AXIS_Y}" x2="{WIDTH - RIGHT}" y2="{AXIS_Y}" stroke="#888"/>',
             f'<text x="{LEFT - 6}" y="{TOP + 10}" text-anchor="end" class="axis">size</text>',
             f'<text x="{LEFT - 6}" y="{BOTTOM}" text-anchor="end" class="axis">duration</text>']
    if not placed:
        parts.append(f'<text x="{WIDTH / 2}" y="{AXIS_Y - 20}" text-anchor="middle">no snapshot yet</text></svg>')
        return "".join(parts)
    first, last = placed[0][0], placed[-1][0]
    span = (last - first).total_seconds()
    plot = WIDTH - LEFT - RIGHT
    bar = max(3.0, min(14.0, plot / (2 * len(placed))))
    biggest = max((r.get("bytes") or 0) for _, r in placed) or 1
    longest = max((r.get("seconds") or 0) for _, r in placed) or 1
    parts.append(f'<text x="{LEFT - 6}" y="{TOP + 24}" text-anchor="end" class="axis">{human_bytes(biggest)}</text>')
    parts.append(f'<text x="{LEFT - 6}" y="{BOTTOM - 14}" text-anchor="end" class="axis">'
                 f'{human_seconds(longest)}</text>')
    for moment, row in placed:
        offset = (moment - first).total_seconds() / span if span else 0.5
        x = LEFT + bar / 2 + offset * (plot - bar)
        parts.append(_mark(row, x, bar, biggest, longest, link(row), row["label"] == selected))
    for moment, anchor, x in ((first, "start", LEFT), (last, "end", WIDTH - RIGHT)):
        parts.append(f'<text x="{x}" y="{HEIGHT - 8}" text-anchor="{anchor}" class="axis">'
                     f'{moment.strftime("%Y-%m-%d %H:%M")} UTC</text>')
    parts.append("</svg>")
    return "".join(parts)


def _mark(row: dict[str, Any], x: float, bar: float, biggest: int, longest: float, href: str,
          selected: bool) -> str:
    kind = row["kind"] if row["kind"] in COLOURS else "full"
    ok = row["status"] == "ok"
    colour = COLOURS[kind]
    paint = f'fill="{colour}"' if ok else f'fill="none" stroke="{colour}" stroke-dasharray="2 2"'
    up = max(2.0, (AXIS_Y - TOP - 20) * (row.get("bytes") or 0) / biggest)
    down = max(2.0, (BOTTOM - AXIS_Y - 20) * (row.get("seconds") or 0) / longest)
    title = (f'{row["label"]}: {row["kind"]}, {row["status"]}, {row["taken_at"]}, '
             f'{human_bytes(row.get("bytes"))}, {human_seconds(row.get("seconds"))}')
    left = x - bar / 2
    outline = (f'<rect x="{left - 3:.1f}" y="{AXIS_Y - up - 3:.1f}" width="{bar + 6:.1f}" height="{up + down + 6:.1f}" '
               f'fill="none" stroke="#d29922" stroke-width="2"/>') if selected else ""
    classes = f"snapshot-mark kind-{kind} status-{escape(row['status'])}" + (" selected" if selected else "")
    return (f'<a href="{escape(href)}"><g class="{classes}" data-label="{escape(row["label"])}" '
            f'data-kind="{kind}" data-bytes="{row.get("bytes") or 0}"><title>{escape(title)}</title>{outline}'
            f'<rect x="{left:.1f}" y="{AXIS_Y - up:.1f}" width="{bar:.1f}" height="{up:.1f}" {paint}/>'
            f'<rect x="{left:.1f}" y="{AXIS_Y + 1:.1f}" width="{bar:.1f}" height="{down:.1f}" {paint} '
            f'opacity="0.55"/></g></a>')
