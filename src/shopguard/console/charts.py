"""Inline SVG charts (no JavaScript, no CDN): stacked bars by outcome and plain bars."""

from __future__ import annotations

from html import escape

COLOURS = {"allow": "#4c9a6a", "review": "#d9a441", "challenge": "#d9793a", "deny": "#c0392b"}


def stacked(columns: list[tuple[str, list[int]]], width: int = 720, height: int = 160) -> str:
    """One column per label, stacked allow/review/challenge/deny from the bottom."""
    top = max((sum(v) for _, v in columns), default=0) or 1
    step = width / max(len(columns), 1)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height + 16}" role="img">']
    for i, (label, values) in enumerate(columns):
        y = float(height)
        for outcome, n in zip(COLOURS, values, strict=True):
            h = n / top * height
            if h:
                y -= h
                parts.append(
                    f'<rect x="{i * step:.1f}" y="{y:.1f}" width="{max(step - 1, 1):.1f}"'
                    f' height="{h:.1f}" fill="{COLOURS[outcome]}">'
                    f"<title>{escape(label)} {outcome}: {n}</title></rect>"
                )
    if columns:
        parts.append(f'<text x="0" y="{height + 14}" class="axis">{escape(columns[0][0])}</text>')
        parts.append(
            f'<text x="{width}" y="{height + 14}" text-anchor="end" class="axis">'
            f"{escape(columns[-1][0])}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def bars(items: list[tuple[str, float]], unit: str = "", width: int = 720) -> str:
    """Horizontal bars, one per item, labelled with the value."""
    top = max((v for _, v in items), default=0) or 1
    row = 22
    parts = [f'<svg class="chart" viewBox="0 0 {width} {row * len(items) + 4}" role="img">']
    for i, (label, value) in enumerate(items):
        w = value / top * (width - 260)
        y = i * row
        parts.append(
            f'<text x="0" y="{y + 15}" class="axis">{escape(label[:28])}</text>'
            f'<rect x="200" y="{y + 3}" width="{w:.1f}" height="{row - 6}" fill="#c0392b"/>'
            f'<text x="{206 + w:.1f}" y="{y + 15}" class="axis">{value:g}{unit}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
