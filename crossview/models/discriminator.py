"""The one-way conditional discriminator (DF-GAN style, paper section 3.3) for full-size and coarse images."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn


class DownBlock(nn.Module):
    """Residual 2x downsampling: out = avgpool(conv1x1(x)) + gamma * conv3x3(act(conv4x4_s2(x))), gamma init 0."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.main = nn.Sequential(nn.Conv2d(c_in, c_out, 4, 2, 1), nn.LeakyReLU(0.2),
                                  nn.Conv2d(c_out, c_out, 3, 1, 1), nn.LeakyReLU(0.2))
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(self.skip(x), 2) + self.gamma * self.main(x)


class OneWayDiscriminator(nn.Module, PyTorchModelHubMixin, library_name="crossview"):
    """D(x, e): image features down to 4 px on the short side, concatenated with the spatially tiled (projected)
    embedding e, then conv3x3 -> conv4x4 -> one score per image. Real-and-matching should score high; fake or
    mismatched low (hinge loss, eq. 6)."""

    def __init__(self, image_size: tuple[int, int] = (64, 256), embed_dim: int = 1536,
                 channels: tuple[int, ...] = (16, 32, 64, 128, 128, 128), cond_channels: int = 64):
        super().__init__()
        h, w = image_size
        downs = int(math.log2(min(h, w) / 4))
        if 4 * 2**downs != min(h, w) or len(channels) < downs + 1:
            raise ValueError(f"image short side must be 4 * 2^k with k + 1 <= {len(channels)} widths, got {image_size}")
        self.from_rgb = nn.Conv2d(3, channels[0], 3, 1, 1)
        self.blocks = nn.Sequential(*[DownBlock(channels[i], channels[i + 1]) for i in range(downs)])
        c = channels[downs]
        self.cond = nn.Linear(embed_dim, cond_channels)
        self.joint = nn.Sequential(nn.Conv2d(c + cond_channels, c, 3, 1, 1), nn.LeakyReLU(0.2),
                                   nn.Conv2d(c, 1, 4, 1, 0))

    def forward(self, image: torch.Tensor, embedding: torch.Tensor,
                mismatched_embedding: torch.Tensor | None = None) -> torch.Tensor:
        """Scores D(image_i, embedding_i), one per image. With ``mismatched_embedding`` (M rows), the scores of
        D(image_i, mismatched_embedding_i) for the first M images follow: their image features are reused, as
        DF-GAN [31] scores its mismatched pairs, so the mismatched term of eq. 6 costs only the joint head."""
        # Channels-last, like the generators: oneDNN's CPU convolutions are much faster in it than in NCHW.
        x = self.blocks(self.from_rgb(image.contiguous(memory_format=torch.channels_last)))
        if mismatched_embedding is not None:
            x = torch.cat([x, x[:len(mismatched_embedding)]])
            embedding = torch.cat([embedding, mismatched_embedding])
        e = self.cond(embedding)[:, :, None, None].expand(-1, -1, *x.shape[2:])
        return self.joint(torch.cat([x, e], dim=1)).mean((1, 2, 3))
