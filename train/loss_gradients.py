"""Where the generator's pixel gradient comes from: each non-adversarial term of eq. 12, weighted as in training,
differentiated with respect to the synthesized image X_r, on test pairs.

    python -m train.loss_gradients --model runs/eqmin-ours-seed1-90min-g2a/generator --direction g2a \\
        --data data/synthcity-test --limit 8

prints, for L1 (eq. 7), the perceptual loss (eq. 8, on the SAIG-S stem features, as the trainer computes it
without VGG16 weights) and the identity loss (eq. 9, its full-size half), all three as the trainer's step
computes them (weighted by the run's --lambda-rec, --lambda-perc and --lambda-id, and after its --feature-blur
for the two feature losses: give the ones the run trained with), the mean absolute gradient and the share
of its power at periods under 4 px (above a quarter cycle per pixel, in either axis): the band where a fine
colour grid lives. The same share for the synthesized and the real images gives the scale.

With ``--discriminator`` (a checkpoint folder of the run: runs/<run>/checkpoints/step-<N>) the full-size
adversarial term (eq. 11) joins them, from the run's full-size discriminator at that step, on the image as G
makes it: without DiffAug, whose random draws would only add noise to the comparison (the coarse half sees G's
coarse output, held fixed here as in eq. 9). A run trained with ``--lambda-patch`` (give it here too) adds its
PatchGAN's term, weighted as trained, from the same checkpoint.
"""

from __future__ import annotations

import argparse
import json

import torch
import torch.nn.functional as F

from crossview.checkpoint import CheckpointError, TrainingCheckpointer, load_model
from crossview.data import open_pairs
from crossview.losses import g_adversarial, reconstruction
from crossview.models.embedder import SAIG
from crossview.models.generator import Generator
from crossview.trainer import DIRECTIONS, GANConfig, GANTrainer
from train.generator import HELPS

# The run's GANConfig fields that the gradients depend on.
RUN_OPTIONS = ("feature_blur", "lambda_rec", "rec_pool", "lambda_perc", "perceptual_from_level", "lambda_id",
               "lambda_patch")


def high_frequency_share(x: torch.Tensor, cutoff: float = 0.25) -> float:
    """Share of the power of x (N x C x H x W, each map's mean removed) at |f| > cutoff cycles/px in y or x."""
    power = torch.fft.fft2(x - x.mean((-2, -1), keepdim=True)).abs().square()
    fy = torch.fft.fftfreq(x.shape[-2], device=x.device).abs()[:, None]
    fx = torch.fft.fftfreq(x.shape[-1], device=x.device).abs()[None, :]
    return float((power * ((fy > cutoff) | (fx > cutoff))).sum() / power.sum())


def loss_gradients(trainer: GANTrainer, source: torch.Tensor, target: torch.Tensor, seed: int = 0,
                   adversarial: bool = False) -> dict[str, dict]:
    """{term: {"mean_abs": ..., "high_frequency_share": ...}} for the weighted terms, and the images' shares.

    The terms are the trainer's own (``GANTrainer.feature_losses``, weighted by ``trainer.cfg``) on
    ``trainer.G``'s output; eq. 9's coarse half sees G's coarse output held fixed, so only its full-size half
    has a gradient with respect to X_r. ``adversarial``: eq. 11's full-size half too, from ``trainer.D`` as it
    stands (load the run's first), on the unaugmented image, and the PatchGAN's term where the trainer has one."""
    weights, generator = trainer.cfg.weights, trainer.G
    with torch.no_grad():
        z, z_local = generator.sample_noise(source.shape[0], torch.Generator().manual_seed(seed))
        embedding = trainer.source_embedding(source)
        out = generator(embedding, z, z_local)
    target_coarse = F.interpolate(target, size=generator.coarse_size, mode="area")  # X'_t, as the step makes it
    x = out.image.clone().requires_grad_(True)
    perc, id_loss = trainer.feature_losses(target, target_coarse, x, out.coarse)
    terms = {"l1": weights.rec * reconstruction(target, x, trainer.cfg.rec_pool), "perceptual": weights.perc * perc,
             "identity": weights.id * id_loss}
    if adversarial:
        terms["adversarial"] = g_adversarial(trainer.D(x, embedding))
        if trainer.D_patch is not None:
            terms["patch adversarial"] = trainer.cfg.lambda_patch * g_adversarial(trainer.D_patch(None, x))
    result = {"synthesized image": {"high_frequency_share": high_frequency_share(out.image)},
              "real image": {"high_frequency_share": high_frequency_share(target)}}
    for name, loss in terms.items():  # one graph for all the terms
        (grad,) = torch.autograd.grad(loss, x, retain_graph=True)
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
    for name in RUN_OPTIONS:  # as the run was trained: the gradients depend on them
        default = getattr(GANConfig, name)
        p.add_argument(f"--{name.replace('_', '-')}", type=type(default), default=default,
                       help=f"the run's --{name.replace('_', '-')}: {HELPS[name]}")
    p.add_argument("--discriminator", help="a checkpoint folder of the run (checkpoints/step-<N>): adds the "
                                           "full-size adversarial term (eq. 11) from its full-size discriminator")
    args = p.parse_args(argv)
    torch.manual_seed(args.seed)
    try:
        saig = load_model(SAIG, args.saig_s)
        generator = load_model(Generator, args.model)
        options = {name: getattr(args, name) for name in RUN_OPTIONS}
        trainer = GANTrainer(GANConfig(direction=args.direction, **options), saig, generator=generator)
        if args.discriminator:
            TrainingCheckpointer.restore_module(args.discriminator, "discriminator", trainer.D)
            if trainer.D_patch is not None:
                TrainingCheckpointer.restore_module(args.discriminator, "discriminator_patch", trainer.D_patch)
    except (CheckpointError, ValueError) as e:  # a wrong folder, or a generator of the other direction
        p.error(str(e))
    pairs = open_pairs(args.data, args.split, saig.aerial_size, saig.ground_size)
    aerial, ground = (torch.stack(views) for views in zip(*(pairs[i] for i in range(args.limit)), strict=True))
    source, target = (aerial, ground) if args.direction == "a2g" else (ground, aerial)
    grads = loss_gradients(trainer, source, target, args.seed, adversarial=bool(args.discriminator))
    print(json.dumps(grads, indent=2))


if __name__ == "__main__":
    main()
