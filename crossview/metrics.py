"""Metrics. Retrieval: Recall@K of cross-view geo-localization."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm


def match_ranks(query: torch.Tensor, database: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """For queries whose true match is the database entry with the same index, per query: the rank of the true
    match (how many entries score strictly higher), the margin (its similarity minus the best other entry's;
    negative for a miss) and the index of that best other entry. Similarity: the dot product."""
    if query.shape != database.shape:
        raise ValueError(f"query and database must pair up one to one, got {tuple(query.shape)} and "
                         f"{tuple(database.shape)}")
    n = query.shape[0]
    ranks, margins, rivals = torch.empty(n, dtype=torch.long), torch.empty(n), torch.empty(n, dtype=torch.long)
    for start in range(0, n, 1024):  # chunks keep memory flat on large sets
        sim = query[start:start + 1024] @ database.T
        rows = torch.arange(sim.shape[0], device=sim.device)
        own = rows + start
        true = sim[rows, own]
        ranks[start:start + len(rows)] = (sim > true[:, None]).sum(1).cpu()
        best_other, rival = sim.index_put((rows, own), torch.full_like(true, float("-inf"))).max(1)
        margins[start:start + len(rows)] = (true - best_other).float().cpu()
        rivals[start:start + len(rows)] = rival.cpu()
    return ranks, margins, rivals


def _recalls(ranks: torch.Tensor, ks: tuple[int, ...] = (1, 5, 10)) -> dict[str, float]:
    out = {f"r{k}": float((ranks < k).float().mean()) for k in ks}
    out["r1_percent"] = float((ranks < int(0.01 * len(ranks)) + 1).float().mean())
    return out


def _misses(ranks: torch.Tensor, margins: torch.Tensor, rivals: torch.Tensor, listed: int = 20) -> dict:
    missed = torch.nonzero(ranks > 0).flatten()
    worst = missed[margins[missed].argsort()][:listed]
    median = round(float(margins.median()), 4) if len(margins) > 1 else None  # not inf, which JSON cannot hold
    return {"median_margin": median, "num_misses": len(missed),
            "misses": [{"query": int(i), "rank": int(ranks[i]), "margin": round(float(margins[i]), 4),
                        "confused_with": int(rivals[i])} for i in worst]}


def recall_at_k(query: torch.Tensor, database: torch.Tensor, ks: tuple[int, ...] = (1, 5, 10)) -> dict[str, float]:
    """Recall@K for queries whose true match is the database entry with the same index.

    Also ``r1_percent``: Recall@K with K = int(0.01 N) + 1 (the usual top-1% of the database). Fractions.
    """
    return _recalls(match_ranks(query, database)[0], ks)


def retrieval_misses(query: torch.Tensor, database: torch.Tensor, listed: int = 20) -> dict:
    """Why Recall@1 is what it is: the median margin of the true match over the best other entry, and the
    missed queries (at most ``listed``, worst first) with the entry each was confused with. A database of one
    entry has no other entry: its median margin is None."""
    return _misses(*match_ranks(query, database), listed)


@torch.no_grad()
def embed_pairs(model, dataset: Dataset, batch_size: int = 64, device: str | torch.device = "cpu",
                workers: int = 0, progress: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Embeddings (aerial, ground) of every pair of a dataset with a two-branch SAIG model."""
    model.eval()
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=workers)
    aerial, ground = [], []
    for a, g in tqdm(loader, desc="embedding", unit="batch", disable=not progress):
        ea, eg = model(a.to(device), g.to(device))
        aerial.append(ea.float().cpu())
        ground.append(eg.float().cpu())
    return torch.cat(aerial), torch.cat(ground)


def retrieval_metrics(aerial: torch.Tensor, ground: torch.Tensor, misses: bool = False) -> dict:
    """Ground queries against the aerial database (the standard direction), and the reverse under
    ``aerial_query``; with ``misses``, each direction also gets ``retrieval_misses``'s keys (one ranking pass)."""
    def one_way(query: torch.Tensor, database: torch.Tensor) -> dict:
        ranks, margins, rivals = match_ranks(query, database)
        return _recalls(ranks) | (_misses(ranks, margins, rivals) if misses else {})

    return {**one_way(ground, aerial), "aerial_query": one_way(aerial, ground), "num_pairs": len(aerial)}


# ----------------------------------------------------------------------------------------------------------
# Synthesis: SSIM, PSNR (torchmetrics) and the Frechet distance


SSIM_SETTINGS = {"gaussian_kernel": True, "kernel_size": 11, "sigma": 1.5, "data_range": 255.0}


def psnr(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR (dB) of 8-bit RGB images, (N, 3, H, W) uint8, data range 255."""
    from torchmetrics.functional.image import peak_signal_noise_ratio

    return peak_signal_noise_ratio(fake.double(), real.double(), data_range=255.0, reduction="none", dim=(1, 2, 3))


def ssim_psnr(fake: torch.Tensor, real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image SSIM and PSNR (dB) of 8-bit RGB images, (N, 3, H, W) uint8, as prior work reports them:
    Gaussian window 11, sigma 1.5, data range 255."""
    from torchmetrics.functional.image import structural_similarity_index_measure

    ssim = structural_similarity_index_measure(fake.double(), real.double(), reduction="none", **SSIM_SETTINGS)
    return ssim, psnr(fake, real)


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)), the Frechet distance of two Gaussians."""
    import numpy as np
    from scipy import linalg

    mu1, mu2 = np.atleast_1d(mu1).astype(np.float64), np.atleast_1d(mu2).astype(np.float64)
    sigma1, sigma2 = np.atleast_2d(sigma1).astype(np.float64), np.atleast_2d(sigma2).astype(np.float64)
    covmean = linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():  # singular product: nudge both covariances (as pytorch-fid does)
        offset = np.eye(sigma1.shape[0]) * 1e-6
        covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    covmean = covmean.real
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def feature_frechet_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """Frechet distance between Gaussians fitted to two feature sets (N, D)."""
    import numpy as np

    x, y = a.double().numpy(), b.double().numpy()
    return frechet_distance(x.mean(0), np.cov(x, rowvar=False), y.mean(0), np.cov(y, rowvar=False))
