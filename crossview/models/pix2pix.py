"""The Pix2Pix baseline (Isola et al., 2017): U-Net generator + 70x70 PatchGAN, L1 weight 100.

Cross-view synthesis papers run Pix2Pix on the source image resized to the target's size; so does this one.
With ngf = 64 and a 128-px short side (7 down-samplings, pix2pix's ``unet_128``) the generator has 41.8M
parameters, the figure the paper's table 6 compares against.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn


class UNetBlock(nn.Module):
    """down -> [inner] -> up, with the input concatenated to the output (the skip connection)."""

    def __init__(self, outer: int, inner: int, submodule: nn.Module | None = None, outermost: bool = False,
                 innermost: bool = False, dropout: bool = False, in_channels: int | None = None):
        super().__init__()
        in_channels = in_channels or outer
        self.outermost = outermost
        down = nn.Conv2d(in_channels, inner, 4, 2, 1, bias=False)
        if outermost:
            up = nn.ConvTranspose2d(inner * 2, outer, 4, 2, 1)
            layers = [down, submodule, nn.ReLU(True), up, nn.Tanh()]
        elif innermost:
            up = nn.ConvTranspose2d(inner, outer, 4, 2, 1, bias=False)
            layers = [nn.LeakyReLU(0.2, True), down, nn.ReLU(True), up, nn.BatchNorm2d(outer)]
        else:
            up = nn.ConvTranspose2d(inner * 2, outer, 4, 2, 1, bias=False)
            layers = [nn.LeakyReLU(0.2, True), down, nn.BatchNorm2d(inner), submodule, nn.ReLU(True), up,
                      nn.BatchNorm2d(outer)] + ([nn.Dropout(0.5)] if dropout else [])
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x) if self.outermost else torch.cat([x, self.model(x)], 1)


class Pix2PixGenerator(nn.Module, PyTorchModelHubMixin, library_name="crossview", tags=["pix2pix", "baseline"]):
    """source image (any size) -> resized to target_size -> U-Net down to 1 px on the short side -> target."""

    def __init__(self, target_size: tuple[int, int] = (64, 256), ngf: int = 64):
        super().__init__()
        self.target_size = tuple(target_size)
        downs = int(math.log2(min(target_size)))
        if 2**downs != min(target_size) or downs < 2:
            raise ValueError(f"the short side must be a power of two >= 4, got {target_size}")

        def width(level: int) -> int:  # channels after the level-th down-sampling: ngf, 2ngf, 4ngf, 8ngf, 8ngf...
            return ngf * min(2**level, 8)

        block = UNetBlock(width(downs - 2), width(downs - 1), innermost=True)
        for level in range(downs - 2, 0, -1):  # pix2pix: dropout in the 8ngf -> 8ngf blocks around the bottleneck
            block = UNetBlock(width(level - 1), width(level), block,
                              dropout=width(level - 1) == width(level) == 8 * ngf)
        self.unet = UNetBlock(3, width(0), block, outermost=True, in_channels=3)

    def forward(self, source: torch.Tensor) -> torch.Tensor:
        if source.shape[-2:] != self.target_size:
            source = F.interpolate(source, size=self.target_size, mode="bilinear", align_corners=False)
        # Channels-last, like our generator: both get oneDNN's fast CPU convolutions in the speed comparison.
        return self.unet(source.contiguous(memory_format=torch.channels_last)).contiguous()


def to_luma(image: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) RGB -> (N, 1, H, W) luma, Y = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601), same value range."""
    weights = image.new_tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    return (image * weights).sum(1, keepdim=True)


class PatchDiscriminator(nn.Module):
    """PatchGAN (70x70 by default) on (source resized, image) concatenated: a grid of real/fake logits.

    Three strided layers need a 64-px short side; smaller (test) images get fewer. ``layers`` fixes their number
    (1, 2, 3: a receptive field of 16, 34, 70 px; 0: as many as the image allows). ``conditional=False`` judges
    the image alone (``source`` None): ours' optional local-realism term (``GANConfig.lambda_patch``).
    ``luma=True`` judges the images' luma alone, Y = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601), blind to
    colour: it can ask for windows and edges, not for one colour rather than another.
    """

    def __init__(self, image_size: tuple[int, int] = (64, 256), ndf: int = 64, conditional: bool = True,
                 layers: int = 0, luma: bool = False):
        super().__init__()
        self.conditional, self.luma = conditional, luma
        channels = 1 if luma else 3
        most = max(1, min(3, int(math.log2(min(image_size))) - 3))
        if not 0 <= layers <= most:
            raise ValueError(f"a PatchGAN on {image_size} images takes 1 to {most} layers (0: {most}), got {layers}")
        layers = layers or most
        seq = [nn.Conv2d(2 * channels if conditional else channels, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for i in range(1, layers + 1):
            prev, mult = mult, min(2**i, 8)
            stride = 2 if i < layers else 1
            seq += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride, 1, bias=False), nn.BatchNorm2d(ndf * mult),
                    nn.LeakyReLU(0.2, True)]
        seq.append(nn.Conv2d(ndf * mult, 1, 4, 1, 1))
        self.model = nn.Sequential(*seq)

    def forward(self, source: torch.Tensor | None, image: torch.Tensor) -> torch.Tensor:
        if (source is None) == self.conditional:
            raise ValueError("a conditional PatchDiscriminator needs a source image, an unconditional one takes None")
        if self.luma:
            image = to_luma(image)
            source = None if source is None else to_luma(source)
        if source is not None:
            if source.shape[-2:] != image.shape[-2:]:
                source = F.interpolate(source, size=image.shape[-2:], mode="bilinear", align_corners=False)
            image = torch.cat([source, image], 1)
        return self.model(image.contiguous(memory_format=torch.channels_last))  # channels-last, as in G
