"""Augmentations. View-consistent geometry for paired training.

A SynthCity/CVUSA-style pair has the aerial north-up and the panorama north-aligned with azimuth growing
clockwise, so a change of heading moves both views together:
* rotating the aerial by k * 90 degrees counter-clockwise brings what was east (90 degrees) to north,
  which rolls the panorama left by k quarter-widths;
* mirroring the aerial east <-> west maps azimuth a to -a, which mirrors the panorama (north stays at the
  centre column boundary, see SynthCity's meta.json).
"""

from __future__ import annotations

import torch


def rotate_flip_pair(aerial: torch.Tensor, ground: torch.Tensor, quarter_turns: int, flip: bool
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """The same change of heading applied to (N or no batch) x C x H x W aerial and ground tensors."""
    if flip:
        aerial, ground = aerial.flip(-1), ground.flip(-1)
    k = quarter_turns % 4
    if k:
        if ground.shape[-1] % 4:
            raise ValueError(f"a panorama width divisible by 4 is needed to rotate, got {ground.shape[-1]}")
        aerial = torch.rot90(aerial, k, dims=(-2, -1))
        ground = torch.roll(ground, -k * ground.shape[-1] // 4, dims=-1)
    return aerial, ground


def random_rotate_flip(aerial: torch.Tensor, ground: torch.Tensor, generator: torch.Generator | None = None
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """A random heading (one of 4) and mirror, the same for the whole batch, consistent between views."""
    k = int(torch.randint(4, (1,), generator=generator))
    flip = bool(torch.randint(2, (1,), generator=generator))
    return rotate_flip_pair(aerial, ground, k, flip)


# ----------------------------------------------------------------------------------------------------------
# DiffAug (Zhao et al., 2020): differentiable Color + Cutout before every discriminator call


def color(x: torch.Tensor) -> torch.Tensor:
    """Random brightness, saturation and contrast per image, in that order (DiffAug's Color)."""
    n, dev, dt = x.shape[0], x.device, x.dtype
    x = x + (torch.rand(n, 1, 1, 1, device=dev, dtype=dt) - 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (torch.rand(n, 1, 1, 1, device=dev, dtype=dt) * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (torch.rand(n, 1, 1, 1, device=dev, dtype=dt) + 0.5) + mean


def cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    """One zeroed square per image, ``ratio`` of each side, centred anywhere in the image (DiffAug's Cutout)."""
    n, dev, dt = x.shape[0], x.device, x.dtype
    h, w = x.shape[2:]
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), device=dev)
    cx = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), device=dev)
    rows = torch.arange(h, device=dev).view(1, h, 1)
    cols = torch.arange(w, device=dev).view(1, 1, w)
    top, left = cy - ch // 2, cx - cw // 2  # the square may stick out of the image; only its inside is cut
    inside = (rows >= top) & (rows < top + ch) & (cols >= left) & (cols < left + cw)
    return x * (~inside).unsqueeze(1).to(dt)


DIFFAUG_POLICIES = {"color+cutout": (color, cutout), "color": (color,), "cutout": (cutout,)}  # the first: default


def check_diffaug_policy(policy: str) -> None:
    if policy not in DIFFAUG_POLICIES:
        raise ValueError(f"unknown DiffAug policy {policy!r}; choose one of {', '.join(DIFFAUG_POLICIES)}")


def diff_augment(x: torch.Tensor, policy: str = "color+cutout") -> torch.Tensor:
    """The policy's augmentations in turn (default Color then Cutout, half of each side). Differentiable in x;
    randomness from the global torch RNG."""
    check_diffaug_policy(policy)
    for augment in DIFFAUG_POLICIES[policy]:
        x = augment(x)
    return x
