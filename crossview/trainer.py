"""One training step of the retrieval-guided GAN (paper sections 3.4 and 5.1) or of the Pix2Pix baseline,
independent of any CLI (train/generator.py and train/pix2pix.py drive them).

``GANTrainer`` holds the generator, the discriminators, their optimizers and the frozen SAIG-S, and
``train_step(source, target, step)`` runs one generator pass, then one discriminator and one generator update
on its output (as DF-GAN's loop does):

D:  eq. 6 hinge on (real, condition), (fake, condition), (real, someone else's condition), for the full-size
    and the coarse discriminator, all images through DiffAug (Color + Cutout); the mismatched pairs reuse the
    real images' features.
G:  eq. 12 = adv (eq. 11) + 50 L1 (eq. 7) + 50 perceptual (eq. 8) + 10 identity (eq. 9) + lambda_div
    diversity (eq. 10, every 4th step); D's weights get no gradients in this update.

Beyond the paper, ``lambda_patch > 0`` adds a third discriminator: Pix2Pix's PatchGAN without the condition,
on the full-size image through the same DiffAug, trained by eq. 6's hinge per patch (no mismatched pairs: it
sees no embedding), and lambda_patch times its eq. 11 joins G's loss. It judges local realism only (windows,
walls), where the one-way discriminators judge the whole image and its match with the source.

Also beyond the paper, two switches for what the aerial cannot tell (where a facade's windows lie):
``rec_pool > 1`` compares the block means of X_r and X_t in eq. 7, and ``perceptual_from_level > 0`` drops eq.
8's finer feature levels. Per pixel and on every level, both terms score the mean of all the window layouts a
tile allows, a blurred facade, above any one plausible layout (``python -m train.facade_preference``).
``best_of > 1`` (best-of-many samples) addresses all that the source does not show at once, wall colours too:
G draws k noises per pair and the step trains the output nearest X_t by eq. 7, so a G whose noise spans the
plausible facades is scored by the best of k of them, not by the average that a blur would match.
"""

from __future__ import annotations

import copy
import logging
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from crossview.augment import check_diffaug_policy, diff_augment
from crossview.losses import (
    LossWeights,
    binomial_blur,
    check_blur_taps,
    check_perceptual_levels,
    check_rec_pool,
    d_hinge,
    diversity,
    g_adversarial,
    identity,
    perceptual,
    reconstruction,
)
from crossview.models.discriminator import OneWayDiscriminator
from crossview.models.embedder import SAIG, ConvStem, SAIGBranch
from crossview.models.generator import Generator
from crossview.models.pix2pix import PatchDiscriminator
from crossview.models.vgg import TAPS as VGG16_TAPS
from crossview.models.vgg import load_vgg16
from crossview.presets import get_preset

log = logging.getLogger(__name__)

DIRECTIONS = {"a2g": ("aerial", "ground"), "g2a": ("ground", "aerial")}  # (source view, target view)


@dataclass
class GANConfig:
    direction: str = "a2g"
    preset: str = "demo"
    lr_g: float = 1e-4
    lr_d: float = 4e-4
    beta1: float = 0.5
    beta2: float = 0.999
    lambda_rec: float = 50.0
    rec_pool: int = 1  # eq. 7 between means over rec_pool x rec_pool blocks (1: per pixel, as the paper)
    lambda_perc: float = 50.0
    lambda_id: float = 10.0
    lambda_div: float = 0.1
    div_every: int = 4
    best_of: int = 1  # k noise draws per pair; the step trains the output nearest X_t by eq. 7 (1: one, as the paper)
    diffaug: bool = True
    diffaug_policy: str = "color+cutout"  # which of DiffAug's augmentations (crossview.augment.DIFFAUG_POLICIES)
    vgg16_weights: str = ""  # a safetensors file or hub repo; empty: the frozen SAIG-S stem features
    perceptual_levels: str = "sum"  # eq. 8 over several feature levels: their sum or their mean
    perceptual_from_level: int = 0  # eq. 8 over the feature levels from this one on (0: all, as the paper)
    feature_blur: int = 0  # binomial taps (odd, >= 3; 0: none) on every image eq. 8 and 9's networks see
    lambda_patch: float = 0.0  # weight of an unconditional PatchGAN's adversarial term (0: none, as the paper)
    patch_layers: int = 0  # that PatchGAN's strided layers: 1, 2, 3 see 16, 34, 70 px (0: 3, or what fits)
    patch_luma: bool = False  # that PatchGAN sees luma only, blind to colour
    # > 0: G gets its own copy of SAIG-S's source branch, trained with G at this learning rate (0: the frozen
    # SAIG-S guides G, as the paper). The losses' SAIG-S (eq. 8, 9) stays frozen either way.
    tune_embedder_lr: float = 0.0
    # Ablations (paper table 4); the defaults are the full model.
    embedder: bool = True  # False: a trainable encoder replaces the frozen SAIG-S (i)
    attn_adain: bool = True  # False: plain AdaIN, M = 1 (ii)
    style: bool = True  # False: no mapping network / AdaIN(w) (iii)
    retrieval: bool = True  # False: the normalisation layers do not see r~ (iv)
    same_structure: bool = False  # True: ResBlock-S at every stage (v)
    coarse_d: bool = True  # False: no discriminator on the coarse output (vi)

    @property
    def weights(self) -> LossWeights:
        return LossWeights(self.lambda_rec, self.lambda_perc, self.lambda_id, self.lambda_div, self.div_every)


def check_finite(loss: torch.Tensor, which: str, step: int) -> None:
    """Stop before a NaN or inf loss reaches an optimizer, so the networks in memory stay as they were."""
    if not torch.isfinite(loss):
        raise FloatingPointError(f"non-finite {which} loss ({loss.item()}) at step {step}")


@contextmanager
def frozen(*modules: nn.Module | None):
    """The G step's discriminator passes: gradients flow through these modules to their input, but the forward
    passes inside the block record no gradients for their parameters, which would only be thrown away by the
    next D step's zero_grad (StyleGAN2-ADA toggles requires_grad per phase the same way)."""
    params = [p for m in modules if m is not None for p in m.parameters()]
    flags = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(params, flags, strict=True):
            p.requires_grad_(flag)


class GeneratorEMA:
    """A moving average of G's weights, StyleGAN2-ADA's G_ema (Karras et al. 2020; its ema_kimg, ema_rampup):

        theta_ema <- beta theta_ema + (1 - beta) theta,   beta = 0.5 ** (batch / half_life),

    so a step's weights count half as much after ``half_life`` more training images. ``half_life`` is
    ``kimg`` thousand images, or ``rampup`` times the images seen so far where that is less: early in a run the
    average does not drag the start weights along. BatchNorm's running statistics (Pix2Pix's U-Net) are averaged
    the same way, so that they fit the averaged weights; the other buffers are copied, as StyleGAN2-ADA copies
    all of them: averaging spectral norm's unit vectors u, v would shorten them and shrink its sigma = u^T W v.
    Training never reads the average; it is written beside G as the run's ``generator-ema``."""

    def __init__(self, generator: nn.Module, kimg: float, rampup: float = 0.05):
        if kimg <= 0:
            raise ValueError(f"the half-life must be positive, got {kimg} kimg")
        self.kimg, self.rampup = kimg, rampup
        self.module = copy.deepcopy(generator).eval().requires_grad_(False)

    def reset(self, generator: nn.Module) -> None:
        """Start the average at G's current weights (after --init loaded them)."""
        self.module.load_state_dict(generator.state_dict())

    def beta(self, batch: int, images_seen: int) -> float:
        half_life = self.kimg * 1000
        if self.rampup > 0:
            half_life = min(half_life, images_seen * self.rampup)
        return 0.5 ** (batch / max(half_life, 1e-8))

    @torch.no_grad()
    def update(self, generator: nn.Module, batch: int, images_seen: int) -> None:
        """Fold in G's weights after a step of ``batch`` images (all processes), ``images_seen`` in all."""
        weight = 1 - self.beta(batch, images_seen)
        params = dict(generator.named_parameters())
        for name, avg in self.module.named_parameters():
            avg.lerp_(params[name], weight)
        buffers = dict(generator.named_buffers())
        for name, avg in self.module.named_buffers():
            if name.endswith((".running_mean", ".running_var")):
                avg.lerp_(buffers[name], weight)
            else:
                avg.copy_(buffers[name])


def build_generator(cfg: GANConfig, embed_dim: int, source_branch: dict | None = None) -> Generator:
    """G for ``cfg``; ``source_branch`` (``SAIG.branch_config``, with ``tune_embedder_lr``) gives it its own copy
    of SAIG-S's source branch."""
    p = get_preset(cfg.preset)
    source_view, target_view = DIRECTIONS[cfg.direction]
    return Generator(target_size=p.image_size(target_view), embed_dim=embed_dim, channels=p.g_channels,
                     fc_channels=p.g_fc_channels, cond_dim=p.g_cond_dim, z_dim=p.z_dim, w_dim=p.w_dim,
                     noise_channels=p.noise_channels, attentional=cfg.attn_adain, use_style=cfg.style,
                     use_retrieval=cfg.retrieval, same_structure=cfg.same_structure,
                     own_encoder_size=None if cfg.embedder else p.image_size(source_view),
                     source_branch=source_branch if cfg.tune_embedder_lr > 0 else None)


def build_discriminator(cfg: GANConfig, image_size: tuple[int, int], embed_dim: int) -> OneWayDiscriminator:
    p = get_preset(cfg.preset)
    return OneWayDiscriminator(image_size, embed_dim, p.d_channels, p.d_cond_channels)


def build_patch_discriminator(cfg: GANConfig, image_size: tuple[int, int]) -> PatchDiscriminator:
    """The local-realism discriminator of ``lambda_patch``: the Pix2Pix baseline's PatchGAN (its preset width),
    without the condition, with ``patch_layers`` strided layers, on luma alone with ``patch_luma``."""
    return PatchDiscriminator(image_size, get_preset(cfg.preset).p2p_ndf, conditional=False,
                              layers=cfg.patch_layers, luma=cfg.patch_luma)


class GANTrainer:
    def __init__(self, cfg: GANConfig, saig: SAIG, device: torch.device | str = "cpu",
                 generator: Generator | None = None):
        """``generator``: a prebuilt one (e.g. a trained run's, for ``train.loss_gradients``) instead of a fresh
        one from ``cfg.preset``; it must synthesize the target view at the size ``saig`` embeds."""
        if cfg.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {sorted(DIRECTIONS)}, got {cfg.direction!r}")
        check_perceptual_levels(cfg.perceptual_levels)  # here too, not at the first step after minutes of setup
        check_blur_taps(cfg.feature_blur)
        check_rec_pool(cfg.rec_pool)
        if cfg.best_of < 1:
            raise ValueError(f"best_of must be >= 1, got {cfg.best_of}")
        check_diffaug_policy(cfg.diffaug_policy)
        if cfg.lambda_patch < 0:
            raise ValueError(f"lambda_patch must be >= 0, got {cfg.lambda_patch}")
        if (cfg.patch_layers or cfg.patch_luma) and not cfg.lambda_patch:
            raise ValueError("patch_layers and patch_luma need lambda_patch > 0 (the PatchGAN they shape), got "
                             f"{cfg.patch_layers} and {cfg.patch_luma}")
        if cfg.tune_embedder_lr < 0 or (cfg.tune_embedder_lr > 0 and not cfg.embedder):
            raise ValueError(f"tune_embedder_lr must be >= 0, and 0 without the embedder (ablation i), got "
                             f"{cfg.tune_embedder_lr}")
        self.cfg, self.device = cfg, torch.device(device)
        self.source_view, self.target_view = DIRECTIONS[cfg.direction]
        self.saig = saig.to(self.device).eval().requires_grad_(False)
        embed_dim = saig.embed_dim
        if generator is None:
            generator = build_generator(cfg, embed_dim, saig.branch_config(self.source_view))
            if isinstance(generator.encoder, SAIGBranch):  # the tuned copy (tune_embedder_lr) starts as SAIG-S's
                generator.encoder.load_state_dict(saig.branch(self.source_view).state_dict())
        target_size = saig.image_size(self.target_view)
        if tuple(generator.target_size) != target_size:
            raise ValueError(f"the generator synthesizes {tuple(generator.target_size)} images, but {cfg.direction}'s "
                             f"{self.target_view} view is {target_size} for this SAIG-S")
        self.G = generator.to(self.device)
        self.D = build_discriminator(cfg, self.G.target_size, embed_dim).to(self.device)
        self.D_coarse = build_discriminator(cfg, self.G.coarse_size, embed_dim).to(self.device) \
            if cfg.coarse_d else None
        self.D_patch = build_patch_discriminator(cfg, self.G.target_size).to(self.device) \
            if cfg.lambda_patch > 0 else None
        betas = (cfg.beta1, cfg.beta2)
        groups = [{"params": list(self.G.parameters())}]
        if cfg.tune_embedder_lr > 0:  # the tuned branch learns at its own rate, in a group of its own
            if not isinstance(self.G.encoder, SAIGBranch):
                raise ValueError("tune_embedder_lr needs a generator with its own SAIG-S source branch")
            tuned = {id(p) for p in self.G.encoder.parameters()}
            groups = [{"params": [p for p in self.G.parameters() if id(p) not in tuned]},
                      {"params": list(self.G.encoder.parameters()), "lr": cfg.tune_embedder_lr}]
        self.opt_g = torch.optim.Adam(groups, lr=cfg.lr_g, betas=betas)
        d_params = [p for d in (self.D, self.D_coarse, self.D_patch) if d is not None for p in d.parameters()]
        self.opt_d = torch.optim.Adam(d_params, lr=cfg.lr_d, betas=betas)
        if cfg.vgg16_weights:
            self.features: nn.Module | None = load_vgg16(cfg.vgg16_weights).to(self.device)
            self.perceptual_source = f"vgg16 ({cfg.vgg16_weights})"
        else:
            self.features = None  # the stem features come with the identity loss's SAIG pass
            self.perceptual_source = "saig-s stem features (no VGG16 weights given)"
        n_levels = len(VGG16_TAPS) if self.features is not None else len(ConvStem.STRIDES)
        if not 0 <= cfg.perceptual_from_level < n_levels:
            raise ValueError(f"perceptual_from_level must be in [0, {n_levels - 1}] ({n_levels} feature levels "
                             f"for eq. 8), got {cfg.perceptual_from_level}")
        # The networks the step calls; train/generator.py swaps in DDP wrappers.
        self.g, self.d, self.d_coarse, self.d_patch = self.G, self.D, self.D_coarse, self.D_patch

    @property
    def target_branch(self):
        return self.saig.branch(self.target_view)

    def modules(self) -> dict[str, nn.Module]:
        mods = {"generator": self.G, "discriminator": self.D}
        mods |= {"discriminator_coarse": self.D_coarse} if self.D_coarse else {}
        return mods | ({"discriminator_patch": self.D_patch} if self.D_patch else {})

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"g": self.opt_g, "d": self.opt_d}

    def describe(self) -> dict:
        return {"model": "crossview", "generator": self.G._hub_mixin_config,
                "perceptual_features": self.perceptual_source}

    def wrap_ddp(self, wrap) -> None:
        self.g, self.d = wrap(self.G), wrap(self.D)
        if self.D_coarse is not None:
            self.d_coarse = wrap(self.D_coarse)
        if self.D_patch is not None:
            self.d_patch = wrap(self.D_patch)

    def source_embedding(self, source: torch.Tensor) -> torch.Tensor:
        """r~: the frozen SAIG-S source branch, or the generator's own encoder: the 'w/o embedder' ablation's, or
        the tuned copy of SAIG-S's source branch (``tune_embedder_lr``)."""
        if self.G.encoder is not None:
            return self.G.encoder(source)
        with torch.no_grad():
            return self.saig.embed(source, self.source_view)

    def _feature_view(self, x: torch.Tensor) -> torch.Tensor:
        """What the feature networks of eq. 8 and 9 see of an image. Their gradients through the strided
        SAIG-S stem are mostly at periods under 4 px and outweigh L1's (``python -m train.loss_gradients``);
        G answers them with a fine colour grid. A low-pass here (``feature_blur``) leaves that band to L1
        and the discriminators; in g2a it cleaned the tiles but cost half or more of SAIG-D's R@1 (RESULTS.md)."""
        return binomial_blur(x, self.cfg.feature_blur)

    def feature_losses(self, target: torch.Tensor, target_coarse: torch.Tensor, out_image: torch.Tensor,
                       out_coarse: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(eq. 8, eq. 9), unweighted: the perceptual loss on VGG16 features, or on the SAIG-S stem features that
        the identity loss's pass yields anyway when no VGG16 weights are given (the levels from
        ``perceptual_from_level`` on), and the identity loss on the full and the upsampled coarse image. Gradients
        reach G through ``out_image`` and ``out_coarse`` only."""
        branch, full, seen = self.target_branch, self.G.target_size, self._feature_view
        with torch.no_grad():
            r_t, phi_t = branch(seen(target), return_stem=True)  # eq. 8's phi: the stem, unless VGG16 is given
            r_tc = branch(seen(F.interpolate(target_coarse, size=full, mode="bilinear", align_corners=False)))
        r_o, phi_o = branch(seen(out_image), return_stem=True)
        r_oc = branch(seen(F.interpolate(out_coarse, size=full, mode="bilinear", align_corners=False)))
        if self.features is not None:
            with torch.no_grad():
                phi_t = self.features(seen(target))
            phi_o = self.features(seen(out_image))
        first = self.cfg.perceptual_from_level
        perc = perceptual(phi_t[first:], phi_o[first:], self.cfg.perceptual_levels)
        return perc, identity(r_o, r_t, r_oc, r_tc)

    @torch.no_grad()
    def best_noise(self, e: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, float]:
        """(z, z_local) for ``best_of`` k > 1 (beyond the paper; Bhattacharyya et al. 2018, best-of-many
        samples): k draws per pair, and for each pair the draw whose output is nearest X_t by eq. 7, as the step
        scores it. Also the spread: the mean over pairs of the k errors' mean minus their least, 0 for a G that
        ignores its noise (then the choice is no choice). Extra forward passes, without gradients; G in eval
        mode, so that they do not step its spectral norms' power iterations."""
        k, n = self.cfg.best_of, e.shape[0]
        z, z_local = self.G.sample_noise(k * n, device=self.device)  # draw i of pair j is row i * n + j
        self.G.eval()
        draws = [slice(i * n, (i + 1) * n) for i in range(k)]  # a batch at a time: faster on a CPU than one k-fold
        error = torch.stack([reconstruction(target, self.G(e, z[d], z_local[d]).image, self.cfg.rec_pool,
                                            per_pair=True) for d in draws])  # (draw, pair)
        self.G.train()
        least, pick = error.min(0)
        chosen = pick * n + torch.arange(n, device=self.device)
        return z[chosen], z_local[chosen], (error.mean(0) - least).mean().item()

    def _augment(self, x: torch.Tensor) -> torch.Tensor:
        return diff_augment(x, self.cfg.diffaug_policy) if self.cfg.diffaug else x

    def _d_scores(self, disc: nn.Module, real: torch.Tensor, fake: torch.Tensor, e: torch.Tensor):
        """D on (real, e), (fake, e), (real, e rolled by one: a mismatched pair) in a single call; the mismatched
        pairs reuse the real images' features (and so their DiffAug draw), as in DF-GAN."""
        images = self._augment(torch.cat([real, fake]))
        scores = disc(images, torch.cat([e, e]), e.roll(1, dims=0))
        return scores.chunk(3)

    def train_step(self, source: torch.Tensor, target: torch.Tensor, step: int) -> dict[str, float]:
        w = self.cfg.weights
        source, target = source.to(self.device), target.to(self.device)
        n = source.shape[0]
        if n < 2:
            raise ValueError("a batch needs at least 2 pairs (mismatched pairs are drawn within the batch)")
        target_coarse = F.interpolate(target, size=self.G.coarse_size, mode="area")  # X'_t
        e = self.source_embedding(source)
        logs = {}
        if self.cfg.best_of > 1:
            z, z_local, logs["best_of_spread"] = self.best_noise(e, target)
        else:
            z, z_local = self.G.sample_noise(n, device=self.device)

        # ---- G's output, once for both updates (as DF-GAN): the D step sees it detached, the G step
        # backpropagates through it. D's update in between does not change G, so a second G pass would
        # give the same images.
        with_div = w.div > 0 and step % w.div_every == 0
        if with_div:  # the second sample for eq. 10 rides in the same forward pass
            z_local2 = torch.randn_like(z_local)
            both = self.g(torch.cat([e, e]), torch.cat([z, z]), torch.cat([z_local, z_local2]))
            out_image, out2_image = both.image.chunk(2)
            out_coarse = both.coarse[:n]
        else:
            out = self.g(e, z, z_local)
            out_image, out_coarse = out.image, out.coarse

        # ---- discriminator (eq. 6) ----
        real_s, fake_s, mis_s = self._d_scores(self.d, target, out_image.detach(), e.detach())
        d_loss = d_hinge(real_s, fake_s, mis_s)
        logs |= {"d_real": real_s.mean().item(), "d_fake": fake_s.mean().item(), "d_mismatch": mis_s.mean().item()}
        if self.d_coarse is not None:
            d_loss = d_loss + d_hinge(*self._d_scores(self.d_coarse, target_coarse, out_coarse.detach(), e.detach()))
        if self.d_patch is not None:  # real and fake in separate calls: its BatchNorm must not see them mixed
            d_patch = d_hinge(self.d_patch(None, self._augment(target)),
                              self.d_patch(None, self._augment(out_image.detach())))
            d_loss = d_loss + d_patch
            logs["d_patch"] = d_patch.item()
        check_finite(d_loss, "discriminator", step)
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_d.step()

        # ---- generator (eq. 12) ----
        # D as a function of G's output only: the bare modules, not their DDP wrappers (D's weights get no
        # gradients here, so there is nothing of D's to synchronise).
        with frozen(self.D, self.D_coarse, self.D_patch):
            adv = g_adversarial(self.D(self._augment(out_image), e))
            if self.D_coarse is not None:
                adv = adv + g_adversarial(self.D_coarse(self._augment(out_coarse), e))
            if self.D_patch is not None:
                adv_patch = g_adversarial(self.D_patch(None, self._augment(out_image)))
                logs["g_adv_patch"] = adv_patch.item()
        rec = reconstruction(target, out_image, self.cfg.rec_pool)
        perc, id_loss = self.feature_losses(target, target_coarse, out_image, out_coarse)
        g_loss = adv + w.rec * rec + w.perc * perc + w.id * id_loss
        if self.D_patch is not None:
            g_loss = g_loss + self.cfg.lambda_patch * adv_patch
        if with_div:
            div = diversity(z_local, z_local2, out_image, out2_image)
            g_loss = g_loss + w.div * div
            logs["diversity"] = div.item()
        check_finite(g_loss, "generator", step)
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        return logs | {"d_loss": d_loss.item(), "g_loss": g_loss.item(), "g_adv": adv.item(), "l1": rec.item(),
                       "perceptual": perc.item(), "identity": id_loss.item()}

    @torch.no_grad()
    def sample(self, source: torch.Tensor, seed: int = 0):
        """G's output for a batch with noise from a fixed seed (for sample grids)."""
        self.G.eval()
        gen = torch.Generator().manual_seed(seed)
        z, z_local = self.G.sample_noise(source.shape[0], gen, self.device)
        out = self.G(self.source_embedding(source.to(self.device)), z, z_local)
        self.G.train()
        return out


# ----------------------------------------------------------------------------------------------------------
# The Pix2Pix baseline, behind the same interface (train_step, sample, modules, optimizers, G)


@dataclass
class Pix2PixConfig:
    direction: str = "a2g"
    preset: str = "demo"
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    lambda_l1: float = 100.0


@dataclass
class Pix2PixSample:
    image: torch.Tensor
    coarse: None = None


class Pix2PixTrainer:
    """Conditional GAN with a U-Net G and a PatchGAN D: BCE adversarial loss + 100 L1 (Isola et al.)."""

    def __init__(self, cfg: Pix2PixConfig, device: torch.device | str = "cpu"):
        from crossview.models.pix2pix import PatchDiscriminator, Pix2PixGenerator

        if cfg.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {sorted(DIRECTIONS)}, got {cfg.direction!r}")
        self.cfg, self.device = cfg, torch.device(device)
        self.source_view, self.target_view = DIRECTIONS[cfg.direction]
        p = get_preset(cfg.preset)
        target_size = p.image_size(self.target_view)
        self.G = Pix2PixGenerator(target_size, p.p2p_ngf).to(self.device)
        self.D = PatchDiscriminator(target_size, p.p2p_ndf).to(self.device)
        betas = (cfg.beta1, cfg.beta2)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=cfg.lr, betas=betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=cfg.lr, betas=betas)
        self.g, self.d = self.G, self.D

    def describe(self) -> dict:
        return {"model": "pix2pix", "generator": self.G._hub_mixin_config}

    def modules(self) -> dict[str, nn.Module]:
        return {"generator": self.G, "discriminator": self.D}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"g": self.opt_g, "d": self.opt_d}

    def wrap_ddp(self, wrap) -> None:
        self.g, self.d = wrap(self.G), wrap(self.D)

    def train_step(self, source: torch.Tensor, target: torch.Tensor, step: int) -> dict[str, float]:
        source, target = source.to(self.device), target.to(self.device)
        fake = self.g(source)
        # D: real pairs -> 1, fake pairs -> 0, in two calls as in Isola et al.'s code. D's BatchNorm then
        # normalizes real and fake batches each by their own statistics, as in the G step's fake-only call
        # below. One mixed call lets D tell them apart by the batch statistics alone and still score a fake-only
        # batch as real (0.97 at step 3,250 of an a2g run), which leaves G with no adversarial signal.
        real_s = self.d(source, target)
        fake_s = self.d(source, fake.detach())
        d_loss = (F.binary_cross_entropy_with_logits(real_s, torch.ones_like(real_s))
                  + F.binary_cross_entropy_with_logits(fake_s, torch.zeros_like(fake_s))) / 2
        check_finite(d_loss, "discriminator", step)
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_d.step()
        # G: fool D, stay close to the target in L1
        with frozen(self.D):  # the bare module, as in GANTrainer's G step
            g_scores = self.D(source, fake)
        adv = F.binary_cross_entropy_with_logits(g_scores, torch.ones_like(g_scores))
        l1 = reconstruction(target, fake)
        g_loss = adv + self.cfg.lambda_l1 * l1
        check_finite(g_loss, "generator", step)
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        return {"d_loss": d_loss.item(), "g_loss": g_loss.item(), "g_adv": adv.item(), "l1": l1.item()}

    @torch.no_grad()
    def sample(self, source: torch.Tensor, seed: int = 0) -> Pix2PixSample:
        self.G.eval()
        out = self.G(source.to(self.device))
        self.G.train()
        return Pix2PixSample(out)
