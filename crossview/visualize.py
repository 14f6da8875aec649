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


def _colormap(name: str):
    import matplotlib

    return matplotlib.colormaps[name]


def colorize(m, size: tuple[int, int], cmap: str = "viridis") -> Image.Image:
    """A weight map M (h x w, values in [0, 1]) as an RGB heatmap of size (W, H), nearest-neighbour upscaled
    so every cell of M stays visible."""
    import numpy as np

    rgb = (_colormap(cmap)(np.clip(m, 0, 1))[..., :3] * 255).astype(np.uint8)
    return Image.fromarray(rgb).resize(size, Image.Resampling.NEAREST)


def colorbar(height: int, cmap: str = "viridis", width: int = 12) -> Image.Image:
    """A vertical colorbar from 1 (top) to 0 (bottom) with its end values written beside it."""
    import numpy as np
    from PIL import ImageDraw

    ramp = np.linspace(1, 0, height)[:, None].repeat(width, 1)
    bar = Image.fromarray((_colormap(cmap)(ramp)[..., :3] * 255).astype(np.uint8))
    canvas = Image.new("RGB", (width + 18, height), (255, 255, 255))
    canvas.paste(bar, (0, 0))
    draw = ImageDraw.Draw(canvas)
    draw.text((width + 3, 0), "1", fill=(0, 0, 0))
    draw.text((width + 3, height - 11), "0", fill=(0, 0, 0))
    return canvas


def attention_overlay(image: Image.Image, m, opacity: float = 0.6, cmap: str = "viridis",
                      min_height: int = 128) -> Image.Image:
    """M as a heatmap blended over the synthesized image (opacity 0: the image, 1: the heatmap), with a
    colorbar; small images are enlarged to ``min_height`` for legibility."""
    scale = max(1, -(-min_height // image.height))
    size = (image.width * scale, image.height * scale)
    base = image.convert("RGB").resize(size, Image.Resampling.BICUBIC)
    heat = colorize(m, size, cmap)
    blended = Image.blend(base, heat, float(min(max(opacity, 0.0), 1.0)))
    return make_grid([[blended, colorbar(size[1], cmap)]], gap=2)


def describe_layer(name: str, m) -> str:
    """Caption: the layer's stage and the resolution M was computed at."""
    h, w = m.shape[-2:]
    return f"{name} · M at {h}×{w}"
