"""Normalisation layers of the generator: Attentional AdaIN (paper eq. 1-5) and style AdaIN.

Each layer *returns* its weight map M rather than keeping it on the module, so one model can serve
concurrent requests without shared mutable state; the generator collects the maps by layer name.
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import nn


def instance_norm(x: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Eq. 1: x_hat = (x - mu_nc) / sigma_nc, statistics over each sample's and channel's h x w.

    Written as a group norm with one channel per group (the same thing): on CPU it is faster than
    F.instance_norm, above all in the channels-last layout the generator runs in.
    """
    return F.group_norm(x, x.shape[1], eps=eps)


class AttentionalAdaIN(nn.Module):
    """Attentional AdaIN, paper eq. 1-5.

        x_hat = IN(x)                                  (1)
        gamma_r, beta_r = MLP_gamma(r), MLP_beta(r)    (2)
        x_r = gamma_r * x_hat + beta_r                 (3)
        M = sigmoid(conv(x_hat))                       (4)   one channel, h x w
        out = x_r * M + x_hat * (1 - M)                (5)

    ``r`` is the retrieval embedding (already passed through the generator's shared first MLP layer).
    forward returns (out, M). ``attentional=False`` is the 'w/o Attn-AdaIN' ablation: no conv, M = 1, so
    the layer is a plain AdaIN (eq. 1-3).
    """

    def __init__(self, channels: int, cond_dim: int, hidden: int = 128, attentional: bool = True):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(cond_dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 2 * channels))
        # Start as the identity modulation: gamma = 1, beta = 0.
        nn.init.zeros_(self.mlp[-1].weight)
        with torch.no_grad():
            self.mlp[-1].bias.copy_(torch.cat([torch.ones(channels), torch.zeros(channels)]))
        self.attention = nn.Conv2d(channels, 1, 3, padding=1) if attentional else None

    def forward(self, x: torch.Tensor, r: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x_hat = instance_norm(x)
        gamma, beta = self.mlp(r)[:, :, None, None].chunk(2, dim=1)
        x_r = torch.addcmul(beta, gamma, x_hat)
        if self.attention is None:
            return x_r, torch.ones_like(x_hat[:, :1])
        m = torch.sigmoid(self.attention(x_hat))
        return torch.lerp(x_hat, x_r, m), m  # x_hat + M (x_r - x_hat): eq. 5 in one pass over the map


class StyleAdaIN(nn.Module):
    """AdaIN with the style w from the mapping network: (1 + gamma(w)) * IN(x) + beta(w)."""

    def __init__(self, channels: int, w_dim: int):
        super().__init__()
        self.affine = nn.Linear(w_dim, 2 * channels)
        nn.init.zeros_(self.affine.weight)
        nn.init.zeros_(self.affine.bias)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.affine(w)[:, :, None, None].chunk(2, dim=1)
        return torch.addcmul(beta, 1 + gamma, instance_norm(x))


class MappingNetwork(nn.Module):
    """Four fully connected layers with LeakyReLU: Gaussian z -> style w (paper section 3.2)."""

    def __init__(self, z_dim: int, w_dim: int, layers: int = 4):
        super().__init__()
        dims = [z_dim] + [w_dim] * layers
        self.net = nn.Sequential(*[m for a, b in itertools.pairwise(dims)
                                   for m in (nn.Linear(a, b), nn.LeakyReLU(0.2))])

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(F.normalize(z, dim=1) * z.shape[1] ** 0.5)
