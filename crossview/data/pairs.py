"""Paired (aerial, ground) image datasets.

Every dataset in CrossView is a ``PairedImages``: a list of (aerial file, ground file) pairs, read as RGB and
resized to the preset's sizes, yielding ``(aerial, ground)`` float tensors in [-1, 1] of shape C x H x W
(a DataLoader batches them to N x C x H x W). The dataset-specific modules only build the list of pairs from
their own folder layout; this module owns image reading, so a missing or corrupt file is reported the same
way everywhere, naming the file.

The pairs layout (SynthCity writes it, and so does the VIGOR -> centred pairs command)::

    root/aerial/*.png  root/ground/*.png
    root/splits/{train,val,test}.csv   header "aerial,ground", paths relative to root
    root/meta.json
"""

from __future__ import annotations

import argparse
import csv
import io
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from torch.utils.data import Dataset

from crossview.checkpoint import write_text_atomic

SPLITS = ("train", "val", "test")

Size = tuple[int, int]  # (H, W)


def parse_size(text: str) -> Size:
    """Parse 'HxW', or one number N for an N x N square (an argparse type)."""
    try:
        parts = [int(p) for p in text.lower().split("x")]
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"size must look like 128 or 64x256, got {text!r}") from e
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2 or min(parts) < 8:
        raise argparse.ArgumentTypeError(f"size must look like 128 or 64x256 with sides >= 8, got {text!r}")
    return parts[0], parts[1]


class ImageReadError(OSError):
    """An image file exists but cannot be decoded; the message names the file."""

    def __init__(self, path: str | Path, reason: str):
        super().__init__(f"cannot read image {path}: {reason}")
        self.path = Path(path)


def read_rgb(path: str | Path, max_pixels: int | None = None) -> Image.Image:
    """Open an image file as 8-bit RGB, applying its EXIF orientation; animations give their first frame.

    ``max_pixels`` rejects larger images from their header, before anything is decoded (decompression bombs).
    Raises FileNotFoundError or ImageReadError, both naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"missing image file: {path}")
    try:
        with Image.open(path) as img:
            if max_pixels is not None and img.width * img.height > max_pixels:
                raise ImageReadError(path, f"{img.width}x{img.height} is {img.width * img.height:,} pixels, "
                                           f"more than the limit of {max_pixels:,}")
            img.load()
            return to_rgb(img)
    except ImageReadError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
        raise ImageReadError(path, str(e) or type(e).__name__) from e


def to_rgb(img: Image.Image) -> Image.Image:
    """Any PIL mode (16-bit, float, palette, grey, alpha, CMYK) to 8-bit RGB, upright per EXIF."""
    img = ImageOps.exif_transpose(img)
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        arr = np.asarray(img, dtype=np.float32)
        scale = 257.0 if arr.max(initial=0) > 255 else 1.0  # 16-bit data -> 8 bit
        img = Image.fromarray(np.clip(arr / scale + 0.5, 0, 255).astype(np.uint8), mode="L")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    return img.convert("RGB")


def image_to_tensor(img: Image.Image, size: Size) -> torch.Tensor:
    """Resize an RGB image to size (H, W) and map it to a 3 x H x W float tensor in [-1, 1]."""
    h, w = size
    if img.size != (w, h):
        img = img.resize((w, h), Image.Resampling.BICUBIC)
    arr = np.asarray(img, dtype=np.uint8)
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).float().div(127.5).sub(1.0)


def tensor_to_image(x: torch.Tensor) -> Image.Image:
    """Inverse of image_to_tensor for one 3 x H x W tensor in [-1, 1]."""
    arr = ((x.detach().float().clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).cpu().numpy()
    return Image.fromarray(arr)


class PairedImages(Dataset):
    """(aerial, ground) tensors in [-1, 1] from a list of file pairs.

    ``transform_aerial`` / ``transform_ground`` optionally turn a freshly read RGB image into the one to
    use (VIGOR crops the aerial tile around the panorama this way) before resizing.
    """

    def __init__(self, pairs: Sequence[tuple[Path, Path]], aerial_size: Size, ground_size: Size,
                 transform_aerial: Callable[[int, Image.Image], Image.Image] | None = None):
        self.pairs = [(Path(a), Path(g)) for a, g in pairs]
        self.aerial_size = tuple(aerial_size)
        self.ground_size = tuple(ground_size)
        self.transform_aerial = transform_aerial

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        aerial_path, ground_path = self.pairs[index]
        aerial = read_rgb(aerial_path)
        if self.transform_aerial is not None:
            aerial = self.transform_aerial(index, aerial)
        ground = read_rgb(ground_path)
        return image_to_tensor(aerial, self.aerial_size), image_to_tensor(ground, self.ground_size)


def read_split_csv(root: str | Path, split: str) -> list[tuple[Path, Path]]:
    """The (aerial, ground) paths listed in root/splits/<split>.csv (header ``aerial,ground``)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    root = Path(root)
    path = root / "splits" / f"{split}.csv"
    if not path.is_file():
        raise FileNotFoundError(f"missing split file: {path}")
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or not {"aerial", "ground"} <= set(reader.fieldnames):
            raise ValueError(f"{path}: expected a header 'aerial,ground', got {reader.fieldnames}")
        return [(root / row["aerial"], root / row["ground"]) for row in reader]


def write_split_csv(root: str | Path, split: str, pairs: Sequence[tuple[str, str]]) -> None:
    """Write root/splits/<split>.csv from (aerial, ground) paths relative to root, atomically (a hard-linked
    copy of a dataset, grown with ``synthcity --resume``, does not change the original's file)."""
    path = Path(root) / "splits" / f"{split}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["aerial", "ground"])
    writer.writerows(pairs)
    write_text_atomic(path, text.getvalue())


class PairsFolder(PairedImages):
    """A folder in the pairs layout (SynthCity, VIGOR-derived pairs)."""

    def __init__(self, root: str | Path, split: str, aerial_size: Size, ground_size: Size):
        self.root = Path(root)
        super().__init__(read_split_csv(self.root, split), aerial_size, ground_size)
