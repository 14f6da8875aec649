"""Where the generator's pixel gradient comes from: each non-adversarial term of eq. 12, weighted as in training,
differentiated with respect to the synthesized image X_r, on test pairs.

    python -m train.loss_gradients --model runs/eqmin-ours-seed1-90min-g2a/generator --direction g2a \\
        --data data/synthcity-test --limit 8

prints, for L1 (eq. 7), the perceptual loss (eq. 8, on the SAIG-S stem features, as the trainer computes it
without VGG16 weights) and the identity loss (eq. 9, its full-size half), both after the trainer's
--feature-blur, the mean absolute gradient and the share of its power at periods under 4 px (above a quarter
cycle per pixel, in either axis): the band where a fine colour grid lives. The same share for the synthesized
and the real images gives the scale. The adversarial terms are left out: they need the run's discriminators.
"""

from __future__ import annotations

import argparse
import json

import torch
import torch.nn.functional as F

from crossview.checkpoint import load_model
from crossview.data import open_pairs
from crossview.losses import LossWeights, binomial_blur, perceptual, reconstruction
from crossview.models.embedder import SAIG
from crossview.models.generator import Generator
from crossview.trainer import DIRECTIONS


def high_frequency_share(x: torch.Tensor, cutoff: float = 0.25) -> float:
    """Share of the power of x (N x C x H x W, each map's mean removed) at |f| > cutoff cycles/px in y or x."""
    power = torch.fft.fft2(x - x.mean((-2, -1), keepdim=True)).abs().square()
    fy = torch.fft.fftfreq(x.shape[-2], device=x.device).abs()[:, None]
    fx = torch.fft.fftfreq(x.shape[-1], device=x.device).abs()[None, :]
    return float((power * ((fy > cutoff) | (fx > cutoff))).sum() / power.sum())


def loss_gradients(generator: Generator, saig: SAIG, source: torch.Tensor, target: torch.Tensor,
                   direction: str, seed: int = 0, weights: LossWeights | None = None, feature_blur: int = 0
                   ) -> dict[str, dict]:
    """{term: {"mean_abs": ..., "high_frequency_share": ...}} for the weighted terms, and the images' shares."""
    weights = weights or LossWeights()  # the trainer's defaults (paper section 5.1)
    source_view, target_view = DIRECTIONS[direction]

    def branch(x: torch.Tensor, **kw):  # what the trainer's feature losses see (GANConfig.feature_blur)
        return saig.branch(target_view)(binomial_blur(x, feature_blur), **kw)

    with torch.no_grad():
        z, z_local = generator.sample_noise(source.shape[0], torch.Generator().manual_seed(seed))
        image = generator(saig.embed(source, source_view), z, z_local).image
        r_target, stem_target = branch(target, return_stem=True)
    terms = {
        "l1": lambda x: weights.rec * reconstruction(target, x),
        "perceptual": lambda x: weights.perc * perceptual(stem_target, branch(x, return_stem=True)[1]),
        "identity": lambda x: weights.id * (1 - F.cosine_similarity(branch(x), r_target, dim=1)).mean(),
    }
    result = {"synthesized image": {"high_frequency_share": high_frequency_share(image)},
              "real image": {"high_frequency_share": high_frequency_share(target)}}
    for name, term in terms.items():
        x = image.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(term(x), x)
        result[name] = {"mean_abs": float(grad.abs().mean()), "high_frequency_share": high_frequency_share(grad)}
    return result


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m train.loss_gradients", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="a generator folder (config.json + model.safetensors)")
    p.add_argument("--direction", required=True, choices=sorted(DIRECTIONS))
    p.add_argument("--data", required=True, help="dataset folder")
    p.add_argument("--split", default="test", choices=["train", "val", "test"])
    p.add_argument("--limit", type=int, default=8, help="the first N pairs of the split")
    p.add_argument("--saig-s", default="assets/checkpoints/saig-s", help="the frozen guide the run trained with")
    p.add_argument("--seed", type=int, default=0, help="noise seed")
    p.add_argument("--feature-blur", type=int, default=0, help="the trainer's --feature-blur (taps; 0: none)")
    args = p.parse_args(argv)
    torch.manual_seed(args.seed)
    generator = load_model(Generator, args.model)
    saig = load_model(SAIG, args.saig_s).requires_grad_(False)
    pairs = open_pairs(args.data, args.split, saig.aerial_size, saig.ground_size)
    aerial, ground = (torch.stack(views) for views in zip(*(pairs[i] for i in range(args.limit)), strict=True))
    source, target = (aerial, ground) if args.direction == "a2g" else (ground, aerial)
    grads = loss_gradients(generator, saig, source, target, args.direction, args.seed, feature_blur=args.feature_blur)
    print(json.dumps(grads, indent=2))


if __name__ == "__main__":
    main()
