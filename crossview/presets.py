"""Named presets (DESIGN.md, "Presets"): image sizes and network widths in one place.

``paper``: the paper's CVUSA sizes (CVACT and VIGOR use a 256 x 512 panorama) and widths.
``demo``: sized for a 2-core CPU and SynthCity; what assets/ ships.
``tiny``: for tests; a forward pass takes milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

VIEWS = ("aerial", "ground")


@dataclass(frozen=True)
class Preset:
    name: str
    aerial_size: tuple[int, int]  # H, W
    ground_size: tuple[int, int]  # H, W; the width spans 360 degrees
    # SAIG embedder (paper section 3.2): conv stem widths, token width, heads, depth of SAIG-S / SAIG-D.
    saig_stem: tuple[int, ...] = (64, 128, 128, 256, 256, 512)
    saig_dim: int = 384
    saig_heads: int = 12
    saig_s_depth: int = 11
    saig_d_depth: int = 22
    # Generator (paper section 3.3): widths from the 4 px start map up to the full size, one per level.
    # Widths fall 4x per level above 8 px so that compute stays below Pix2Pix's; most of the 25.9M parameters
    # (paper table 6, CVUSA a2g) sit where they cost almost no FLOPs: the input FC and the 4-8 px stages.
    g_channels: tuple[int, ...] = (512, 512, 128, 64, 32, 16, 8)
    g_fc_channels: int = 78  # the FC from r~ writes this many channels at 4 px, a 3x3 conv widens them
    g_cond_dim: int = 512  # width of r~ after the Attn-AdaIN MLPs' shared first layer
    z_dim: int = 128
    w_dim: int = 512
    noise_channels: int = 16
    # Discriminators: widths from full size down to 4 px, and the projected embedding's channels.
    d_channels: tuple[int, ...] = (32, 64, 128, 256, 512, 512, 512)
    d_cond_channels: int = 128
    # Pix2Pix baseline: U-Net and PatchGAN base widths.
    p2p_ngf: int = 64
    p2p_ndf: int = 64

    def image_size(self, view: str) -> tuple[int, int]:
        """(H, W) of the view's images."""
        if view not in VIEWS:
            raise ValueError(f"view must be one of {VIEWS}, got {view!r}")
        return self.aerial_size if view == "aerial" else self.ground_size


PRESETS: dict[str, Preset] = {
    "paper": Preset("paper", aerial_size=(256, 256), ground_size=(128, 512)),
    # About 0.5 GFLOP per branch forward at 128x128 / 64x256: half-width stem, 192-wide tokens.
    # About 0.5 GFLOP per SAIG branch and 1.1 (a2g) / 0.5 (g2a) GFLOP per generator forward.
    "demo": Preset("demo", aerial_size=(128, 128), ground_size=(64, 256),
                   saig_stem=(32, 64, 64, 128, 128, 256), saig_dim=192, saig_heads=6,
                   g_channels=(256, 128, 64, 32, 16, 16), g_fc_channels=32, g_cond_dim=256, z_dim=64, w_dim=128,
                   noise_channels=8, d_channels=(16, 32, 64, 128, 128, 128), d_cond_channels=64,
                   p2p_ngf=32, p2p_ndf=32),
    "tiny": Preset("tiny", aerial_size=(32, 32), ground_size=(16, 64),
                   saig_stem=(8, 16, 16, 16, 32, 32), saig_dim=32, saig_heads=2, saig_s_depth=2, saig_d_depth=3,
                   g_channels=(32, 16, 8, 8), g_fc_channels=4, g_cond_dim=16, z_dim=8, w_dim=16, noise_channels=2,
                   d_channels=(8, 16, 16, 16), d_cond_channels=8, p2p_ngf=4, p2p_ndf=8),
}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}") from None
