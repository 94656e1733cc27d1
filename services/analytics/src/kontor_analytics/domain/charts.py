"""Charts as inline SVG, drawn on the server: no script, no library, nothing to load.

Each function returns one ``<svg>`` element (for an HTML page: no ``xmlns`` needed) with
a ``<title>`` for screen readers; colours come from presentation attributes, so the
page's content security policy needs no inline styles.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH = 640
BAR = "#2f6f9f"
GRID = "#d0d7de"
TEXT = "#1f2328"


def _label(text: str, x: float, y: float, anchor: str = "start", size: int = 12) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{TEXT}" '
        f'text-anchor="{anchor}">{escape(text)}</text>'
    )


def bar_chart(title: str, bars: Sequence[tuple[str, float]], *, unit: str = "") -> str:
    """Horizontal bars, one row per label, the value written after each bar (a negative
    value: a bar of one pixel, its value written)."""
    row, left, right = 26, 170, 90
    height = max(1, len(bars)) * row + 36
    top = max((v for _, v in bars), default=0.0) or 1.0
    parts = [
        f'<svg class="chart" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    if not bars:
        parts.append(_label("no data in this period", 10, 30))
    for i, (label, value) in enumerate(bars):
        y = 20 + i * row
        length = (WIDTH - left - right) * (value / top)
        parts.append(_label(label[:24], left - 8, y + 14, "end"))
        parts.append(
            f'<rect x="{left}" y="{y}" width="{max(length, 1):.1f}" height="{row - 8}" '
            f'fill="{BAR}"/>'
        )
        parts.append(_label(f"{value:g}{unit}", left + max(length, 0) + 6, y + 14))
    parts.append("</svg>")
    return "".join(parts)


def column_chart(title: str, columns: Sequence[tuple[str, float]], *, unit: str = "") -> str:
    """Vertical columns over time (one per day), labels under every few columns."""
    height, bottom, left = 220, 40, 50
    top = max((v for _, v in columns), default=0.0) or 1.0
    span = (WIDTH - left - 10) / max(1, len(columns))
    parts = [
        f'<svg class="chart" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{WIDTH - 10}" y2="{height - bottom}" '
        f'stroke="{GRID}"/>',
        _label(f"{top:g}{unit}", left - 4, 16, "end", 11),
    ]
    if not columns:
        parts.append(_label("no data in this period", left, 60))
    every = max(1, len(columns) // 8)
    for i, (label, value) in enumerate(columns):
        h = (height - bottom - 20) * (value / top)
        x = left + i * span
        parts.append(
            f'<rect x="{x + 2:.1f}" y="{height - bottom - h:.1f}" width="{max(span - 4, 1):.1f}" '
            f'height="{h:.1f}" fill="{BAR}"><title>{escape(label)}: {value:g}{unit}</title></rect>'
        )
        if i % every == 0:
            parts.append(_label(label, x + span / 2, height - bottom + 16, "middle", 10))
    parts.append("</svg>")
    return "".join(parts)


def heat_map(
    title: str, rows: Sequence[tuple[str, Sequence[float | None]]], columns: Sequence[str]
) -> str:
    """A grid of shares (0..1): darker is more; empty cells for weeks not reached yet."""
    cell, left, head = 44, 110, 30
    height = head + max(1, len(rows)) * cell + 10
    width = left + max(1, len(columns)) * cell + 10
    parts = [
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for j, name in enumerate(columns):
        parts.append(_label(name, left + j * cell + cell / 2, 20, "middle", 11))
    if not rows:
        parts.append(_label("no orders yet", 10, head + 20))
    for i, (name, shares) in enumerate(rows):
        y = head + i * cell
        parts.append(_label(name, left - 6, y + cell / 2 + 4, "end", 11))
        for j, share in enumerate(shares):
            if share is None:
                continue
            shade = int(235 - 180 * max(0.0, min(1.0, share)))
            fill = f"rgb({shade},{shade + 10 if shade < 245 else 255},255)"
            x = left + j * cell
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell - 2}" height="{cell - 2}" fill="{fill}"/>'
            )
            parts.append(_label(f"{share:.0%}", x + cell / 2 - 1, y + cell / 2 + 4, "middle", 10))
    parts.append("</svg>")
    return "".join(parts)
