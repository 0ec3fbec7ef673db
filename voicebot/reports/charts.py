"""Charts for the console as SVG text. Pure.

Drawn with presentation attributes only (``fill``, ``x``, ``width``): the console's content
security policy allows no inline style or script, which the chart libraries' SVG uses. Each bar
carries a ``<title>`` (the browser's tooltip) and the chart an ``aria-label``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from voicebot.reports.tables import GRADES

GRADE_COLOURS = {
    "A": "#2e7d32",
    "B": "#7cb342",
    "C": "#fdd835",
    "D": "#fb8c00",
    "E": "#e53935",
    "F": "#9e9e9e",
}
BAR = "#1e88e5"


def stacked_bars(
    labels: Sequence[str],
    stacks: Sequence[Mapping[str, int]],
    *,
    keys: Sequence[str] = GRADES,
    colours: Mapping[str, str] = GRADE_COLOURS,
    title: str,
    width: int = 720,
    height: int = 200,
) -> str:
    """One column per label, its parts stacked in ``keys`` order, the total above it, a legend."""
    top, bottom, left = 16, 34, 8
    plot = height - top - bottom
    most = max((sum(s.get(k, 0) for k in keys) for s in stacks), default=0) or 1
    step = (width - left * 2) / max(1, len(labels))
    bar = max(2.0, min(40.0, step * 0.7))
    parts = [_open(width, height + 18, title)]
    for i, (label, stack) in enumerate(zip(labels, stacks, strict=True)):
        x = left + i * step + (step - bar) / 2
        y = float(top + plot)
        for key in keys:
            n = stack.get(key, 0)
            if not n:
                continue
            h = plot * n / most
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colours[key]}">'
                f"<title>{escape(label)}: {escape(key)} {n}</title></rect>"
            )
        total = sum(stack.get(k, 0) for k in keys)
        parts.append(_text(x + bar / 2, y - 3, str(total), "middle"))
        parts.append(_text(x + bar / 2, top + plot + 14, label, "middle"))
    parts.append(_legend(keys, colours, left, height + 8))
    parts.append("</svg>")
    return "".join(parts)


def horizontal_bars(
    items: Sequence[tuple[str, float, str]], *, title: str, width: int = 720, row: int = 22
) -> str:
    """One bar per (label, value 0..1, text shown after the bar), top to bottom."""
    label_w, text_w = 190, 130
    span = width - label_w - text_w
    height = row * len(items) + 8
    parts = [_open(width, height, title)]
    for i, (label, value, text) in enumerate(items):
        y = 4 + i * row
        w = max(0.0, min(1.0, value)) * span
        parts.append(_text(label_w - 6, y + row * 0.65, label, "end"))
        parts.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" fill="{BAR}">'
            f"<title>{escape(label)}: {escape(text)}</title></rect>"
        )
        parts.append(_text(label_w + w + 6, y + row * 0.65, text, "start"))
    parts.append("</svg>")
    return "".join(parts)


def _open(width: int, height: int, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="{escape(title)}" font-family="sans-serif" font-size="11">'
        f"<title>{escape(title)}</title>"
    )


def _text(x: float, y: float, text: str, anchor: str) -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="#333">{escape(text)}</text>'


def _legend(keys: Sequence[str], colours: Mapping[str, str], x: float, y: float) -> str:
    parts = []
    for i, key in enumerate(keys):
        at = x + i * 42
        parts.append(f'<rect x="{at:.0f}" y="{y - 9:.0f}" width="10" height="10" fill="{colours[key]}"/>')
        parts.append(_text(at + 14, y, key, "start"))
    return "".join(parts)
