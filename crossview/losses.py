"""Losses: retrieval (embedder training: soft-margin triplet, InfoNCE) and the GAN losses of eq. 6-12."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


def soft_margin_triplet(aerial: torch.Tensor, ground: torch.Tensor, alpha: float = 10.0) -> torch.Tensor:
    """Weighted soft-margin triplet loss over all in-batch negatives, in both directions.

    With L2-normalised embeddings, d(g, a) = 2 - 2 cos(g, a); for each positive pair (i, i) and each negative
    j != i: log(1 + exp(alpha * (d_ii - d_ij))), averaged over the N (N - 1) triplets, for ground queries
    against aerial references and for the reverse, and the two directions averaged.
    """
    n = aerial.shape[0]
    if n < 2:
        raise ValueError("the in-batch triplet loss needs at least 2 pairs")
    dist = 2.0 - 2.0 * ground @ aerial.T  # row i: ground query i against every aerial
    pos = dist.diagonal()
    off = ~torch.eye(n, dtype=torch.bool, device=dist.device)
    ground_query = F.softplus(alpha * (pos[:, None] - dist))[off].mean()
    aerial_query = F.softplus(alpha * (pos[None, :] - dist))[off].mean()
    return (ground_query + aerial_query) / 2


def info_nce(aerial: torch.Tensor, ground: torch.Tensor, temperature: float = 0.02) -> torch.Tensor:
    """Symmetric InfoNCE: cross-entropy of cos / temperature against the matching index, both directions."""
    logits = ground @ aerial.T / temperature
    target = torch.arange(logits.shape[0], device=logits.device)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


RETRIEVAL_LOSSES = {"triplet": soft_margin_triplet, "infonce": info_nce}


# ----------------------------------------------------------------------------------------------------------
# GAN losses (paper section 3.4)


def d_hinge(real: torch.Tensor, fake: torch.Tensor, mismatched: torch.Tensor | None = None) -> torch.Tensor:
    """Eq. 6: E[relu(1 - D(x, a))] + (E[relu(1 + D(x~, a))] + E[relu(1 + D(x_mis, a))]) / 2.

    Without ``mismatched`` (a discriminator that sees no condition, e.g. a PatchGAN's logits, one per patch) the
    fake term stands alone: E[relu(1 - D(x))] + E[relu(1 + D(x~))]."""
    fake_term = F.relu(1 + fake).mean()
    if mismatched is not None:
        fake_term = (fake_term + F.relu(1 + mismatched).mean()) / 2
    return F.relu(1 - real).mean() + fake_term


def g_adversarial(fake: torch.Tensor) -> torch.Tensor:
    """Eq. 11, as a quantity to minimise: -E[D(x~, a)]."""
    return -fake.mean()


def check_rec_pool(pool: int, name: str = "rec_pool") -> None:
    """Eq. 7's block size: 1 (per pixel) or more; ``name`` is the setting's."""
    if pool < 1:
        raise ValueError(f"{name} must be >= 1, got {pool}")


def reconstruction(target: torch.Tensor, output: torch.Tensor, pool: int = 1, per_pair: bool = False
                   ) -> torch.Tensor:
    """Eq. 7: mean absolute error between X_t and X_r. With ``pool`` > 1 (beyond the paper) between their means
    over pool x pool blocks instead: blind to where detail finer than a block lies within it (a window's
    phase), still exact about each block's mean colour. ``per_pair``: one error per image, shape (N,)."""
    check_rec_pool(pool, "pool")
    if pool > 1:
        target, output = (F.avg_pool2d(x, pool, ceil_mode=True) for x in (target, output))
    error = (target - output).abs()
    return error.flatten(1).mean(1) if per_pair else error.mean()


def identity(r_out: torch.Tensor, r_target: torch.Tensor, r_out_coarse: torch.Tensor,
             r_target_coarse: torch.Tensor) -> torch.Tensor:
    """Eq. 9: 1 - cos(R(X_r), R(X_t)) + 1 - cos(R(X'_r), R(X'_t)), averaged over the batch."""
    return (2 - F.cosine_similarity(r_out, r_target, dim=1) - F.cosine_similarity(r_out_coarse, r_target_coarse,
                                                                                  dim=1)).mean()


def diversity(z1: torch.Tensor, z2: torch.Tensor, image1: torch.Tensor, image2: torch.Tensor,
              eps: float = 0.05) -> torch.Tensor:
    """Eq. 10: d_z(z1, z2) / (d_I(G(z1), G(z2)) + eps), L1 distances; minimising it pushes the images apart.

    eps bounds the ratio: at initialisation both samples are almost the same image (d_I ~ 1e-5), and without
    it the term (~1e5) would swamp every other loss. With eps = 0.05 it stays below ~23 (d_z ~ 1.13 for
    Gaussian codes), comparable to 50 x L1.
    """
    return (z1 - z2).abs().mean() / ((image1 - image2).abs().mean() + eps)


@dataclass(frozen=True)
class LossWeights:
    """Eq. 12's lambdas (paper section 5.1); diversity is 0.1 on CVUSA/CVACT, 1 on VIGOR-GEN."""

    rec: float = 50.0
    perc: float = 50.0
    id: float = 10.0
    div: float = 0.1
    div_every: int = 4


def check_blur_taps(taps: int, name: str = "feature_blur") -> None:
    """A binomial blur needs an odd number of taps (centred), or 0 for none; ``name`` is the setting's."""
    if taps and (taps < 3 or taps % 2 == 0):
        raise ValueError(f"{name} must be 0 or an odd number of taps >= 3, got {taps}")


def binomial_blur(x: torch.Tensor, taps: int) -> torch.Tensor:
    """A fixed separable low-pass: the normalised binomial kernel of ``taps`` (3: [1, 2, 1] / 4, 5:
    [1, 4, 6, 4, 1] / 16) along each axis of N x C x H x W, reflect-padded; 0 taps returns x.

    Its response is cos(pi f)^(taps - 1) at f cycles per pixel: zero at the Nyquist frequency (f = 1/2),
    1/2 (3 taps) or 1/4 (5 taps) at f = 1/4. The blur is its own adjoint, so a loss computed on blurred
    images passes the generator a gradient with the same response: none of it at a 2-pixel period.
    """
    check_blur_taps(taps)
    if taps == 0:
        return x
    row = torch.tensor([math.comb(taps - 1, k) for k in range(taps)], dtype=x.dtype, device=x.device)
    row = row / row.sum()
    c, pad = x.shape[1], taps // 2
    x = F.pad(x, (pad, pad, pad, pad), mode="reflect")
    x = F.conv2d(x, row.view(1, 1, 1, taps).expand(c, 1, 1, taps), groups=c)
    return F.conv2d(x, row.view(1, 1, taps, 1).expand(c, 1, taps, 1), groups=c)


PERCEPTUAL_LEVELS = ("sum", "mean")


def check_perceptual_levels(levels: str) -> None:
    if levels not in PERCEPTUAL_LEVELS:
        raise ValueError(f"perceptual_levels must be one of {PERCEPTUAL_LEVELS}, got {levels!r}")


def perceptual(features_target: list[torch.Tensor], features_output: list[torch.Tensor],
               levels: str = "sum") -> torch.Tensor:
    """Eq. 8: || phi(X_t) - phi(X_r) ||_1, the mean absolute difference per feature level, over the levels.

    Eq. 8 has one feature map phi; with several levels, ``levels="sum"`` adds them (so lambda_perc weights
    len(levels) terms of phi's size) and ``levels="mean"`` averages them (lambda_perc weights one).
    """
    check_perceptual_levels(levels)
    total = sum((t - o).abs().mean() for t, o in zip(features_target, features_output, strict=True))
    return total / len(features_target) if levels == "mean" else total
