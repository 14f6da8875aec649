"""Named model/data presets (DESIGN.md, "Presets").

``paper``: the paper's CVUSA sizes (CVACT and VIGOR use a 256 x 512 panorama); ``demo``: sized for a 2-core
CPU and SynthCity, what assets/ ships; ``tiny``: for tests, a forward pass takes milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    name: str
    aerial_size: tuple[int, int]  # H, W
    ground_size: tuple[int, int]  # H, W; the width spans 360 degrees


PRESETS: dict[str, Preset] = {
    "paper": Preset("paper", aerial_size=(256, 256), ground_size=(128, 512)),
    "demo": Preset("demo", aerial_size=(128, 128), ground_size=(64, 256)),
    "tiny": Preset("tiny", aerial_size=(32, 32), ground_size=(16, 64)),
}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}") from None
