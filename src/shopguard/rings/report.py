"""The report of a batch run: rings.md (the top rings) and rings.png (their drawing).

Only pseudonyms exist here, and the report shows even those masked to a short prefix:
enough to find an account in the console, nothing to read an identity from.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

from shopguard.rings.book import RingBook


def mask(pseudonym: str) -> str:
    """``k1.3f9a...``: the key id and four characters of the pseudonym."""
    key, _, rest = pseudonym.partition(".")
    return f"{key}.{rest[:4]}..." if rest else f"{pseudonym[:4]}..."


def _when(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M")


def markdown(book: RingBook, top: int = 20) -> str:
    rings = book.rings[:top]
    lines = [
        "# Rings",
        "",
        f"Window {_when(book.window_start)} to {_when(book.window_end)} UTC, built "
        f"{_when(book.built_at)} UTC: {len(book.rings):,} rings, "
        f"{sum(r.size for r in book.rings):,} accounts. Top {len(rings)} by score "
        "(docs/rings.md says how it is made).",
        "",
        "| ring | tenant | score | size | new 24 h | harm events | harm money | denied "
        "| fraud labels | shared links | example members |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|---|---|",
    ]
    for r in rings:
        shared = ", ".join(f"{n} {kind}" for kind, n in sorted(r.link_types.items()))
        members = ", ".join(mask(m) for m in r.members[:3])
        lines.append(
            f"| {r.ring_id} | {r.tenant} | {r.score:.2f} | {r.size} | {r.new_accounts_24h} "
            f"| {r.harm_events} | {r.harm_money:,.2f} | {r.denied} | {r.fraud_labels} "
            f"| {shared} | {members} |"
        )
    if not rings:
        lines.append("| (none) | | | | | | | | | | |")
    lines += ["", "![the top rings](rings.png)", ""]
    return "\n".join(lines)


def _circle(n: int) -> list[tuple[float, float]]:
    return [(math.cos(2 * math.pi * i / n), math.sin(2 * math.pi * i / n)) for i in range(n)]


def picture(book: RingBook, path: Path, top: int = 6, max_members: int = 40) -> None:
    """The top rings side by side: accounts on a circle, a line per shared value between
    consecutive users of it (a star would hide the rest), coloured by link kind."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    rings = book.rings[:top]
    cols = max(1, min(3, len(rings)))
    rows = max(1, math.ceil(len(rings) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 5 * rows), squeeze=False)
    kinds = sorted({link.kind for r in rings for link in r.links})
    colours = {kind: plt.get_cmap("tab10")(i % 10) for i, kind in enumerate(kinds)}
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, ring in zip(axes.flat, rings, strict=False):
        shown = min(ring.size, max_members)
        xy = _circle(shown)
        for link in ring.links:
            users = [m for m in link.members if m < shown]
            for a, b in pairwise(users):
                ax.plot(*zip(xy[a], xy[b], strict=True), color=colours[link.kind], lw=1, alpha=0.6)
        ax.scatter([p[0] for p in xy], [p[1] for p in xy], s=30, color="black", zorder=3)
        more = f" ({shown} of {ring.size} shown)" if shown < ring.size else ""
        ax.set_title(
            f"{ring.ring_id} score {ring.score:.2f}\n{ring.size} accounts{more}", fontsize=9
        )
        ax.set_aspect("equal")
    if kinds:
        handles = [Line2D([], [], color=colours[k], label=k) for k in kinds]
        fig.legend(handles=handles, loc="lower center", ncol=min(len(kinds), 6))
    if not rings:
        axes.flat[0].text(0.5, 0.5, "no rings", ha="center", va="center")
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write_report(book: RingBook, directory: Path, top: int = 20) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    md, png = directory / "rings.md", directory / "rings.png"
    md.write_text(markdown(book, top))
    picture(book, png)
    return md, png
