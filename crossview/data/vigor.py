"""VIGOR (Zhu et al., 2021) and the centred pairs derived from it (how VIGOR-GEN is made).

Layout::

    root/<City>/panorama/*.jpg     2048 x 1024 panoramas
    root/<City>/satellite/*.png    640 x 640 aerial tiles
    root/splits/<City>/same_area_balanced_train.txt, same_area_balanced_test.txt, pano_label_balanced.txt

A label line is the panorama name followed by four (satellite name, d_row, d_col) triples; the first is the
positive tile. The panorama was taken at (row, col) = (320 + d_row, 320 - d_col) of that 640 x 640 tile, so a
square cropped around that point is an aerial image centred on the camera, as the synthesis task needs.

``python -m crossview.data.vigor --root VIGOR --out DIR`` writes such centred pairs as a pairs folder.
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from tqdm import tqdm

from crossview.data.pairs import PairedImages, Size, parse_size, read_rgb, write_split_csv

log = logging.getLogger(__name__)

CITIES = ("Chicago", "NewYork", "SanFrancisco", "Seattle")
SPLIT_FILES = {"train": "same_area_balanced_train.txt", "test": "same_area_balanced_test.txt",
               "all": "pano_label_balanced.txt"}
TILE = 640  # the side the label offsets are measured in


@dataclass(frozen=True)
class VigorPair:
    panorama: Path
    satellite: Path
    d_row: float
    d_col: float
    city: str


def parse_label_line(line: str, where: str) -> tuple[str, str, float, float]:
    """(panorama name, positive satellite name, d_row, d_col) of one label line."""
    parts = line.split()
    if len(parts) < 4:
        raise ValueError(f"{where}: expected 'panorama satellite d_row d_col ...', got {line.strip()!r}")
    try:
        return parts[0], parts[1], float(parts[2]), float(parts[3])
    except ValueError as e:
        raise ValueError(f"{where}: offsets must be numbers, got {parts[2:4]}") from e


def vigor_pairs(root: str | Path, split: str, cities: tuple[str, ...] = CITIES) -> list[VigorPair]:
    """The positive (panorama, satellite, offset) of every panorama in the split of the given cities."""
    root = Path(root)
    if split == "val":
        split = "test"  # VIGOR has no val split; prior work evaluates on test
    if split not in SPLIT_FILES:
        raise ValueError(f"VIGOR split must be one of train, val, test, all; got {split!r}")
    out = []
    for city in cities:
        path = root / "splits" / city / SPLIT_FILES[split]
        if not path.is_file():
            raise FileNotFoundError(f"missing VIGOR split file: {path}")
        for line_no, line in enumerate(path.read_text().splitlines(), 1):
            if not line.strip():
                continue
            pano, sat, d_row, d_col = parse_label_line(line, f"{path}:{line_no}")
            out.append(VigorPair(root / city / "panorama" / pano, root / city / "satellite" / sat, d_row, d_col,
                                 city))
    return out


def centred_crop(tile: Image.Image, d_row: float, d_col: float, crop: int) -> Image.Image:
    """The ``crop`` x ``crop`` square (in 640-tile pixels) of the tile centred on the panorama's position.

    Tiles of another size are scaled accordingly; parts of the square outside the tile are black.
    """
    w, h = tile.size
    sx, sy = w / TILE, h / TILE
    row, col = (TILE / 2 + d_row) * sy, (TILE / 2 - d_col) * sx
    half_w, half_h = crop * sx / 2, crop * sy / 2
    box = (round(col - half_w), round(row - half_h), round(col + half_w), round(row + half_h))
    return tile.crop(box)


class VIGORCentred(PairedImages):
    """Centred (aerial crop, panorama) pairs read straight from a VIGOR folder."""

    def __init__(self, root: str | Path, split: str, aerial_size: Size, ground_size: Size,
                 cities: tuple[str, ...] = CITIES, crop: int = 320):
        self.records = vigor_pairs(root, split, cities)
        self.crop = crop
        super().__init__([(r.satellite, r.panorama) for r in self.records], aerial_size, ground_size,
                         transform_aerial=self._crop)

    def _crop(self, index: int, tile: Image.Image) -> Image.Image:
        r = self.records[index]
        return centred_crop(tile, r.d_row, r.d_col, self.crop)


def derive_pairs(root: str | Path, out: str | Path, cities: tuple[str, ...] = CITIES, crop: int = 320,
                 aerial_size: Size | None = None, ground_size: Size | None = None,
                 progress: bool = True) -> dict:
    """Write centred VIGOR pairs as a pairs folder (train and test splits; val.csv is the test list)."""
    out = Path(out)
    (out / "aerial").mkdir(parents=True, exist_ok=True)
    (out / "ground").mkdir(parents=True, exist_ok=True)
    counts = {}
    for split in ("train", "test"):
        records = vigor_pairs(root, split, cities)
        rows = []
        for r in tqdm(records, desc=f"VIGOR {split}", unit="pair", disable=not progress):
            name = f"{r.city}_{r.panorama.stem}.png"
            aerial = centred_crop(read_rgb(r.satellite), r.d_row, r.d_col, crop)
            ground = read_rgb(r.panorama)
            if aerial_size:
                aerial = aerial.resize(aerial_size[::-1], Image.Resampling.BICUBIC)
            if ground_size:
                ground = ground.resize(ground_size[::-1], Image.Resampling.BICUBIC)
            aerial.save(out / "aerial" / name)
            ground.save(out / "ground" / name)
            rows.append((f"aerial/{name}", f"ground/{name}"))
        write_split_csv(out, split, rows)
        if split == "test":
            write_split_csv(out, "val", rows)
        counts[split] = len(rows)
    meta = {"generator": "VIGOR centred pairs", "source": str(root), "cities": list(cities),
            "crop_in_640_tile_px": crop, "aerial_size": list(aerial_size) if aerial_size else None,
            "ground_size": list(ground_size) if ground_size else None, "splits": counts,
            "note": "val.csv repeats test.csv: VIGOR has no separate val split"}
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m crossview.data.vigor",
                                description="Derive centred aerial/panorama pairs from VIGOR (as VIGOR-GEN does) "
                                            "and write them in the pairs layout.",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--root", required=True, help="the VIGOR folder (cities and splits/)")
    p.add_argument("--out", required=True, help="output pairs folder")
    p.add_argument("--cities", nargs="+", default=list(CITIES), help="cities to include")
    p.add_argument("--crop", type=int, default=320, help="side of the centred aerial crop, in 640-tile pixels")
    p.add_argument("--aerial-size", type=parse_size, default=None, metavar="HxW",
                   help="resize the aerial crops to this size (default: keep the crop's size)")
    p.add_argument("--ground-size", type=parse_size, default=None, metavar="HxW",
                   help="resize the panoramas to this size (default: keep their size)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def main(argv: list[str] | None = None) -> None:
    p = build_parser()
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    meta = derive_pairs(args.root, args.out, tuple(args.cities), args.crop, args.aerial_size, args.ground_size,
                        progress=not args.quiet)
    log.info("wrote %s to %s", meta["splits"], args.out)


if __name__ == "__main__":
    main()
