"""Figures: image grids (source | synthesized | target) and attention heatmaps."""

from __future__ import annotations

from PIL import Image


def make_grid(rows: list[list[Image.Image]], gap: int = 4, background=(255, 255, 255)) -> Image.Image:
    """Paste images row by row; each column is as wide as its widest image, each row as tall as its tallest."""
    n_cols = max(len(r) for r in rows)
    widths = [max(r[c].width for r in rows if c < len(r)) for c in range(n_cols)]
    heights = [max(im.height for im in r) for r in rows]
    grid = Image.new("RGB", (sum(widths) + gap * (n_cols - 1), sum(heights) + gap * (len(rows) - 1)), background)
    y = 0
    for r, h in zip(rows, heights, strict=True):
        x = 0
        for c, im in enumerate(r):
            grid.paste(im.convert("RGB"), (x, y + (h - im.height) // 2))
            x += widths[c] + gap
        y += h + gap
    return grid
