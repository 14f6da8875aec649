"""Generator, discriminator, losses and GAN training (paper sections 3.3-3.4)."""

import dataclasses
import json
import math

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from crossview.augment import diff_augment
from crossview.checkpoint import CheckpointError, TrainingCheckpointer
from crossview.data import PairsFolder
from crossview.losses import (
    binomial_blur,
    d_hinge,
    diversity,
    g_adversarial,
    identity,
    perceptual,
    reconstruction,
)
from crossview.models.attn_adain import AttentionalAdaIN
from crossview.models.discriminator import OneWayDiscriminator
from crossview.models.embedder import SAIG, ConvStem
from crossview.models.generator import Generator, sn_conv, upsample, upsample_conv3x3
from crossview.models.pix2pix import PatchDiscriminator, to_luma
from crossview.models.vgg import VGG16Features, load_vgg16
from crossview.trainer import GANConfig, GANTrainer, GeneratorEMA, build_generator, frozen
from tests.test_embedder import _run
from train.loss_gradients import high_frequency_share, loss_gradients
from train.loss_gradients import main as loss_gradients_main


def manual_instance_norm(x, eps=1e-5):
    mu = x.mean(dim=(2, 3), keepdim=True)
    var = ((x - mu) ** 2).mean(dim=(2, 3), keepdim=True)
    return (x - mu) / torch.sqrt(var + eps)


def forced(layer: AttentionalAdaIN, m_logit: float, gamma: torch.Tensor, beta: torch.Tensor):
    """Set M to sigmoid(m_logit) everywhere and the MLP's output to (gamma, beta) whatever r is."""
    with torch.no_grad():
        layer.attention.weight.zero_()
        layer.attention.bias.fill_(m_logit)
        layer.mlp[-1].weight.zero_()
        layer.mlp[-1].bias.copy_(torch.cat([gamma, beta]))
    return layer


def test_attentional_adain_equations():
    torch.manual_seed(0)
    x, r = torch.randn(2, 4, 5, 7) * 3 + 1, torch.randn(2, 16)
    gamma, beta = torch.tensor([0.5, 2.0, -1.0, 3.0]), torch.tensor([0.1, -0.2, 0.3, 0.0])
    x_hat = manual_instance_norm(x)  # eq. 1
    out, m = forced(AttentionalAdaIN(4, 16), 50.0, gamma, beta)(x, r)  # M = 1: eq. 3
    assert torch.allclose(m, torch.ones_like(m)) and m.shape == (2, 1, 5, 7)
    assert torch.allclose(out, gamma.view(1, 4, 1, 1) * x_hat + beta.view(1, 4, 1, 1), atol=1e-4)
    out, m = forced(AttentionalAdaIN(4, 16), -50.0, gamma, beta)(x, r)  # M = 0: x_hat
    assert torch.allclose(out, x_hat, atol=1e-4)
    out, m = forced(AttentionalAdaIN(4, 16), 0.0, gamma, beta)(x, r)  # M = 1/2: the average, eq. 5
    expected = 0.5 * (gamma.view(1, 4, 1, 1) * x_hat + beta.view(1, 4, 1, 1)) + 0.5 * x_hat
    assert torch.allclose(m, torch.full_like(m, 0.5)) and torch.allclose(out, expected, atol=1e-4)


def test_attention_map_depends_on_the_features_and_gamma_beta_on_r():
    torch.manual_seed(1)
    layer = AttentionalAdaIN(3, 8)
    torch.nn.init.normal_(layer.mlp[-1].weight)
    x = torch.randn(1, 3, 6, 6)
    out1, m1 = layer(x, torch.randn(1, 8))
    out2, m2 = layer(x, torch.randn(1, 8))
    assert torch.equal(m1, m2) and not torch.allclose(out1, out2)  # M = sigmoid(conv(x_hat)): r-independent
    assert m1.std() > 0 and ((m1 > 0) & (m1 < 1)).all()
    _, m_plain = AttentionalAdaIN(3, 8, attentional=False)(x, torch.randn(1, 8))
    assert torch.equal(m_plain, torch.ones(1, 1, 6, 6))


@pytest.mark.parametrize("target", [(64, 256), (128, 128), (16, 64)])
def test_weight_maps_at_every_layer(target):
    torch.manual_seed(0)
    g = Generator(target_size=target, embed_dim=24, channels=(32, 16, 16, 8, 8, 8), fc_channels=4, cond_dim=8,
                  z_dim=4, w_dim=8, noise_channels=2)
    out = g(F.normalize(torch.randn(3, 24), dim=1))
    assert out.image.shape == (3, 3, *target) and out.image.abs().max() <= 1
    h, w = target
    side = min(h // 2, 32)
    assert out.coarse.shape == (3, 3, side, side * w // h)
    levels = int(math.log2(h / 4))
    structure = int(math.log2(side / 4))
    assert len(out.weight_maps) == 3 * structure + (levels - structure)  # 3 per ResBlock-S, 1 per ResBlock-T
    for name, m in out.weight_maps.items():
        assert m.shape[:2] == (3, 1) and m.shape[3] * h == m.shape[2] * w, name
        assert (m >= 0).all() and (m <= 1).all(), name


def test_upsample_conv3x3_is_conv_after_nearest_upsampling():
    """The facade blocks' sub-pixel form gives what conv3x3(upsample(x)) gives, with the same weights."""
    torch.manual_seed(0)
    # (eval: in training mode every read of a spectral-norm weight takes a power-iteration step)
    for conv in (torch.nn.Conv2d(5, 7, 3, 1, 1), sn_conv(5, 7, 3).eval(), torch.nn.Conv2d(3, 2, 3, 1, 1, bias=False)):
        x = torch.randn(2, conv.in_channels, 6, 10)
        assert torch.allclose(upsample_conv3x3(x, conv), conv(upsample(x)), atol=1e-5)


def test_same_seed_same_output_and_noise_changes_it():
    g = Generator(target_size=(16, 64), embed_dim=24, channels=(16, 8, 8), fc_channels=4, cond_dim=8, z_dim=4,
                  w_dim=8, noise_channels=2).eval()
    e = F.normalize(torch.randn(1, 24), dim=1)
    a = g(e, *g.sample_noise(1, torch.Generator().manual_seed(5))).image
    b = g(e, *g.sample_noise(1, torch.Generator().manual_seed(5))).image
    c = g(e, *g.sample_noise(1, torch.Generator().manual_seed(6))).image
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_discriminator_scores_one_number_per_image():
    d = OneWayDiscriminator((16, 64), 24, (8, 16, 16), 4)
    assert d(torch.randn(5, 3, 16, 64), torch.randn(5, 24)).shape == (5,)
    d = OneWayDiscriminator((32, 32), 24, (8, 16, 16, 16), 4)
    assert d(torch.randn(2, 3, 32, 32), torch.randn(2, 24)).shape == (2,)


def test_mismatched_pairs_reuse_the_image_features():
    torch.manual_seed(0)
    d = OneWayDiscriminator((16, 64), 24, (8, 16, 16), 4)
    images, e, e_mis = torch.randn(4, 3, 16, 64), torch.randn(4, 24), torch.randn(3, 24)
    scores = d(images, e, e_mis)
    assert scores.shape == (7,)  # 4 matched, then 3 mismatched for the first 3 images
    torch.testing.assert_close(scores, torch.cat([d(images, e), d(images[:3], e_mis)]))


def test_frozen_modules_pass_gradients_to_their_input_but_not_to_themselves():
    d = OneWayDiscriminator((16, 64), 24, (8, 16, 16), 4)
    d.cond.bias.requires_grad_(False)  # a parameter frozen before stays frozen after
    x = torch.randn(2, 3, 16, 64, requires_grad=True)
    with frozen(d, None):
        score = d(x, torch.randn(2, 24)).sum()
    score.backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is None for p in d.parameters())
    assert not d.cond.bias.requires_grad
    assert all(p.requires_grad for name, p in d.named_parameters() if name != "cond.bias")


def test_loss_values_on_toy_cases():
    one = torch.ones(4)
    assert d_hinge(one, -one, -one) == 0  # a perfect D: every hinge satisfied
    assert d_hinge(-one, one, one) == pytest.approx(2 + (2 + 2) / 2)  # eq. 6 with the 1/2 weights
    assert d_hinge(0 * one, 0 * one, 0 * one) == pytest.approx(1 + (1 + 1) / 2)
    assert d_hinge(-one, one) == pytest.approx(2 + 2)  # no mismatched pairs (an unconditional D): fakes weigh 1
    assert g_adversarial(torch.tensor([2.0, 4.0])) == -3.0  # G wants higher scores
    assert reconstruction(torch.zeros(2, 3, 4, 4), torch.full((2, 3, 4, 4), 0.5)) == pytest.approx(0.5)
    e = F.normalize(torch.randn(3, 8), dim=1)
    assert identity(e, e, e, e) == pytest.approx(0, abs=1e-6)
    assert identity(e, -e, e, -e) == pytest.approx(4, abs=1e-5)
    z1, z2 = torch.zeros(2, 4), torch.ones(2, 4)
    near = diversity(z1, z2, torch.zeros(2, 3), torch.full((2, 3), 0.01))
    far = diversity(z1, z2, torch.zeros(2, 3), torch.full((2, 3), 1.0))
    assert far < near  # more different images, lower loss
    assert far == pytest.approx(1 / 1.05)
    feats = [torch.zeros(1, 2, 3, 3), torch.zeros(1, 4, 2, 2)]
    assert perceptual(feats, [f + 1 for f in feats]) == pytest.approx(2.0)  # two levels, each off by 1
    assert perceptual(feats, [f + 1 for f in feats], levels="mean") == pytest.approx(1.0)
    with pytest.raises(ValueError, match="levels"):
        perceptual(feats, feats, levels="max")


def test_diffaug_is_random_differentiable_and_cuts_out():
    torch.manual_seed(0)
    x = torch.rand(4, 3, 16, 32, requires_grad=True)
    y = diff_augment(x)
    assert y.shape == x.shape and not torch.allclose(y, x)
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    zeros_per_image = (y == 0).all(dim=1).flatten(1).sum(1)
    assert (zeros_per_image >= 16 * 32 // 4 // 4).all()  # at least part of an 8 x 16 square is cut


def test_diffaug_policies_apply_their_augmentations_alone():
    x = torch.rand(4, 3, 16, 32) + 0.5  # no zero pixels of its own
    torch.manual_seed(0)
    cut = diff_augment(x, "cutout")
    kept = (cut != 0).all(dim=1, keepdim=True)
    assert torch.equal(cut, x * kept) and not kept.all()  # pixels are kept as they were or zeroed
    torch.manual_seed(0)
    coloured = diff_augment(x, "color")
    assert not (coloured == 0).all(dim=1).any() and not torch.allclose(coloured, x)  # nothing cut, colours moved
    torch.manual_seed(0)
    both = diff_augment(x)
    torch.manual_seed(0)
    assert torch.equal(both, diff_augment(x, "color+cutout"))  # the default: Color, then Cutout
    with pytest.raises(ValueError, match="DiffAug policy"):
        tiny_trainer(diffaug_policy="translation")


def tiny_trainer(direction="a2g", **kw):
    torch.manual_seed(0)
    return GANTrainer(GANConfig(direction=direction, preset="tiny", **kw), SAIG.from_preset("tiny", "s"))


def test_trainer_takes_a_prebuilt_generator_of_the_right_view():
    """train.loss_gradients hands the trainer a trained run's generator: the trainer trains that one, not a fresh
    one, and refuses a generator of the other direction."""
    saig = SAIG.from_preset("tiny", "s")
    g2a = build_generator(GANConfig(direction="g2a", preset="tiny"), saig.embed_dim)
    trainer = GANTrainer(GANConfig(direction="g2a", preset="tiny"), saig, generator=g2a)
    assert trainer.G is g2a
    assert {id(p) for p in trainer.opt_g.param_groups[0]["params"]} == {id(p) for p in g2a.parameters()}
    before = [p.detach().clone() for p in g2a.parameters()]
    trainer.train_step(torch.rand(2, 3, 16, 64) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1, step=1)
    assert any(not torch.equal(b, p) for b, p in zip(before, g2a.parameters(), strict=True))
    with pytest.raises(ValueError, match=r"synthesizes \(32, 32\) images, but a2g's ground view is \(16, 64\)"):
        GANTrainer(GANConfig(direction="a2g", preset="tiny"), saig, generator=g2a)


@pytest.mark.parametrize("direction", ["a2g", "g2a"])
def test_a_few_steps_lower_the_l1_on_a_fixed_batch(direction, synthcity_dir):
    trainer = tiny_trainer(direction, lr_g=1e-3)
    pairs = PairsFolder(synthcity_dir, "train", (32, 32), (16, 64))
    aerial, ground = (torch.stack(t) for t in zip(*[pairs[i] for i in range(4)], strict=True))
    src, tgt = (aerial, ground) if direction == "a2g" else (ground, aerial)
    l1 = [trainer.train_step(src, tgt, s)["l1"] for s in range(25)]
    assert sum(l1[-5:]) / 5 < 0.8 * sum(l1[:5]) / 5, l1


def test_train_step_runs_g_once_and_updates_d_with_the_d_step_gradients_only(synthcity_dir):
    """One G pass serves both updates; the G step's D passes leave D's gradients as the D step left them, and
    D's parameters trainable."""
    trainer = tiny_trainer("a2g")
    g_calls = []
    trainer.G.register_forward_hook(lambda *_: g_calls.append(1))
    pairs = PairsFolder(synthcity_dir, "train", (32, 32), (16, 64))
    aerial, ground = (torch.stack(t) for t in zip(*[pairs[i] for i in range(3)], strict=True))
    d_params = list(trainer.D.parameters()) + list(trainer.D_coarse.parameters())
    grads = []
    trainer.opt_d.step = lambda: grads.extend(p.grad.clone() for p in d_params)
    trainer.train_step(aerial, ground, step=1)
    assert len(g_calls) == 1
    assert len(grads) == len(d_params) and all(torch.equal(p.grad, g) for p, g in zip(d_params, grads, strict=True))
    assert all(p.requires_grad for p in d_params)


def test_perceptual_levels_option_reaches_the_step():
    """--perceptual-levels mean divides eq. 8 by the number of SAIG-S stem levels, all else equal."""
    source, target = torch.rand(3, 3, 32, 32) * 2 - 1, torch.rand(3, 3, 16, 64) * 2 - 1
    perc = {}
    for levels in ("sum", "mean"):
        trainer = tiny_trainer("a2g", perceptual_levels=levels)
        torch.manual_seed(1)
        perc[levels] = trainer.train_step(source, target, step=1)["perceptual"]
    n_levels = len(ConvStem.STRIDES)
    assert perc["mean"] == pytest.approx(perc["sum"] / n_levels, rel=1e-5)


def test_unknown_perceptual_levels_fail_at_construction():
    with pytest.raises(ValueError, match="perceptual_levels"):
        tiny_trainer("a2g", perceptual_levels="max")


def checkerboard(h: int, w: int) -> torch.Tensor:
    rows, cols = torch.meshgrid(torch.arange(float(h)), torch.arange(float(w)), indexing="ij")
    return ((rows + cols) % 2 * 2 - 1).expand(1, 3, h, w)


@pytest.mark.parametrize("taps", [3, 5])
def test_binomial_blur_keeps_constants_and_removes_a_2_pixel_checkerboard(taps):
    flat = torch.full((1, 3, 8, 12), 0.3)
    assert torch.allclose(binomial_blur(flat, taps), flat)
    assert binomial_blur(checkerboard(8, 12), taps).abs().max() < 1e-6  # borders too (reflect padding)
    x = torch.rand(1, 3, 8, 12)
    assert torch.equal(binomial_blur(x, 0), x)


def test_feature_blur_hides_a_checkerboard_from_the_feature_losses():
    """With --feature-blur 5, a 2-pixel checkerboard added to X_t changes neither eq. 8 nor the SAIG-S embedding
    that eq. 9 compares; without, it changes both. (Eq. 9 itself is about 1e-6 for the random tiny SAIG-S, whose
    embeddings hardly depend on the image, so its logged value would compare float noise.)"""
    torch.manual_seed(0)
    source, target = torch.rand(3, 3, 32, 32) * 2 - 1, torch.rand(3, 3, 16, 64) * 1.6 - 0.8
    gridded = target + 0.2 * checkerboard(16, 64)
    for taps in (0, 5):
        perc, embedding = [], []
        for tgt in (target, gridded):
            trainer = tiny_trainer("a2g", feature_blur=taps)
            torch.manual_seed(1)
            perc.append(trainer.train_step(source, tgt, step=1)["perceptual"])
            embedding.append(trainer.target_branch(binomial_blur(tgt, taps)))
        same_perc = perc[0] == pytest.approx(perc[1], rel=1e-5)
        embedding_change = (embedding[0] - embedding[1]).abs().max().item()
        assert (same_perc, embedding_change < 1e-6) == ((True, True) if taps else (False, False))
        assert taps or embedding_change > 1e-5


@pytest.mark.parametrize("taps", [2, 4, -1])
def test_feature_blur_needs_an_odd_number_of_taps(taps):
    with pytest.raises(ValueError, match="feature_blur"):
        tiny_trainer("a2g", feature_blur=taps)
    with pytest.raises(ValueError, match="feature_blur"):  # the blur itself, e.g. from train.loss_gradients
        binomial_blur(torch.rand(1, 3, 8, 8), taps)


def test_pooled_reconstruction_is_blind_to_detail_within_a_block_but_not_to_its_mean():
    """--rec-pool 4: moving a dark 2-pixel window within its 4 x 4 block costs nothing; per pixel it does; a
    changed block mean costs the same either way."""
    wall = torch.zeros(1, 3, 8, 8)
    window_left, window_right = wall.clone(), wall.clone()
    window_left[..., 1:3, 0:2] = -1  # both windows inside the top-left 4 x 4 block
    window_right[..., 1:3, 2:4] = -1
    assert reconstruction(window_left, window_right) == pytest.approx(8 / 64)
    assert reconstruction(window_left, window_right, pool=4) == pytest.approx(0.0)
    brighter = wall + 0.5
    assert reconstruction(wall, brighter, pool=4) == pytest.approx(reconstruction(wall, brighter)) == 0.5
    with pytest.raises(ValueError, match="pool"):
        reconstruction(wall, wall, pool=0)


def test_rec_pool_reaches_the_step_and_is_checked():
    """The step's L1 is eq. 7 between block means with --rec-pool; a block size under 1 fails at construction."""
    source, target = torch.rand(3, 3, 32, 32) * 2 - 1, torch.rand(3, 3, 16, 64) * 2 - 1
    l1 = {}
    for pool in (1, 4):
        trainer = tiny_trainer("a2g", rec_pool=pool)
        torch.manual_seed(1)
        l1[pool] = trainer.train_step(source, target, step=1)["l1"]
    assert l1[4] < l1[1]  # block means of noise differ less than its pixels
    with pytest.raises(ValueError, match="rec_pool"):
        tiny_trainer("a2g", rec_pool=0)


def test_best_noise_picks_for_each_pair_the_draw_nearest_the_truth():
    """--best-of k: of the k noise draws per pair, best_noise returns the one whose output has the least eq. 7
    error against that pair's truth (checked against the errors of all k draws, recomputed here), and the
    spread of those errors; G is back in training mode afterwards."""
    trainer = tiny_trainer("a2g", best_of=3)
    source, target = torch.rand(4, 3, 32, 32) * 2 - 1, torch.rand(4, 3, 16, 64) * 2 - 1
    e = trainer.source_embedding(source)
    torch.manual_seed(5)
    z, z_local, spread = trainer.best_noise(e, target)
    assert trainer.G.training
    torch.manual_seed(5)
    z_all, local_all = trainer.G.sample_noise(3 * 4)
    trainer.G.eval()
    with torch.no_grad():
        errors = torch.stack([reconstruction(target, trainer.G(e, z_all[i * 4:(i + 1) * 4],
                                                                 local_all[i * 4:(i + 1) * 4]).image, per_pair=True)
                              for i in range(3)])  # (draw, pair)
        chosen = reconstruction(target, trainer.G(e, z, z_local).image, per_pair=True)
    trainer.G.train()
    assert torch.allclose(chosen, errors.min(0).values, atol=1e-6)
    assert spread == pytest.approx((errors.mean(0) - errors.min(0).values).mean().item(), abs=1e-6) and spread > 0
    logs = trainer.train_step(source, target, step=1)
    assert logs["best_of_spread"] > 0 and math.isfinite(logs["g_loss"])
    with pytest.raises(ValueError, match="best_of"):
        tiny_trainer("a2g", best_of=0)


def test_perceptual_from_level_drops_the_finer_levels_from_eq_8_alone():
    torch.manual_seed(0)
    target, out = torch.rand(2, 3, 16, 64) * 2 - 1, torch.rand(2, 3, 16, 64) * 2 - 1
    every, deep = tiny_trainer("a2g"), tiny_trainer("a2g", perceptual_from_level=3)
    coarse = [F.interpolate(x, size=every.G.coarse_size, mode="area") for x in (target, out)]
    stems = [every.target_branch.stem_features(x) for x in (target, out)]
    per_level = [perceptual([t], [o]) for t, o in zip(*stems, strict=True)]
    perc_every, id_every = every.feature_losses(target, coarse[0], out, coarse[1])
    perc_deep, id_deep = deep.feature_losses(target, coarse[0], out, coarse[1])
    assert perc_every.item() == pytest.approx(sum(per_level).item(), rel=1e-5)
    assert perc_deep.item() == pytest.approx(sum(per_level[3:]).item(), rel=1e-5)
    assert id_deep.item() == pytest.approx(id_every.item(), rel=1e-6)  # eq. 9 is unchanged
    with pytest.raises(ValueError, match="perceptual_from_level"):
        tiny_trainer("a2g", perceptual_from_level=len(ConvStem.STRIDES))


def test_high_frequency_share_tells_a_grid_from_a_smooth_image():
    cols = torch.arange(32.0)
    wave = torch.sin(2 * math.pi * cols / 16).expand(1, 3, 32, 32)  # one cycle per 16 px, periodic in 32
    assert high_frequency_share(checkerboard(32, 32)) == pytest.approx(1.0)
    assert high_frequency_share(wave) == pytest.approx(0.0, abs=1e-6)


def test_loss_gradients_reports_every_term_and_lambda_scales_it():
    trainer = tiny_trainer("a2g")
    source, target = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 16, 64) * 2 - 1
    trainer.G.eval()
    grads = loss_gradients(trainer, source, target)
    assert set(grads) == {"synthesized image", "real image", "l1", "perceptual", "identity"}
    for term in ("l1", "perceptual", "identity"):
        assert grads[term]["mean_abs"] > 0 and 0 <= grads[term]["high_frequency_share"] <= 1
    # L1's gradient is sign(X_r - X_t) * lambda / numel: its mean magnitude is known exactly.
    assert grads["l1"]["mean_abs"] == pytest.approx(50.0 / target.numel(), rel=1e-4)
    trainer.cfg = dataclasses.replace(trainer.cfg, lambda_perc=25.0)
    halved = loss_gradients(trainer, source, target)
    assert halved["perceptual"]["mean_abs"] == pytest.approx(grads["perceptual"]["mean_abs"] / 2, rel=1e-5)
    # eq. 9's full-size half alone: the gradient of 1 - cos(R(X_r), R(X_t)) with respect to X_r
    x = trainer.G(trainer.source_embedding(source), *trainer.G.sample_noise(2, torch.Generator().manual_seed(0)))
    x = x.image.detach().requires_grad_(True)
    branch = trainer.target_branch
    (by_hand,) = torch.autograd.grad(10 * (1 - F.cosine_similarity(branch(x), branch(target), dim=1)).mean(), x)
    assert grads["identity"]["mean_abs"] == pytest.approx(float(by_hand.abs().mean()), rel=1e-5)


def test_loss_gradients_adds_the_adversarial_term_from_a_run_checkpoint(tmp_path):
    """--discriminator loads the run's full-size D from a training checkpoint; eq. 11's gradient is then D's
    own: -dD(X_r, r~)/dX_r / N, on the unaugmented image."""
    trained = tiny_trainer("a2g")
    source, target = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 16, 64) * 2 - 1
    trained.train_step(source, target, step=1)  # D's gammas leave 0: its main paths count
    folder = TrainingCheckpointer(tmp_path).save(1, trained.modules(), trained.optimizers())
    fresh = GANTrainer(GANConfig(direction="a2g", preset="tiny"), trained.saig, generator=trained.G)
    TrainingCheckpointer.restore_module(folder, "discriminator", fresh.D)
    assert all(torch.equal(a, b) for a, b in zip(fresh.D.state_dict().values(), trained.D.state_dict().values(),
                                                 strict=True))
    trained.G.eval()
    grads = loss_gradients(fresh, source, target, adversarial=True)
    assert set(grads) == {"synthesized image", "real image", "l1", "perceptual", "identity", "adversarial"}
    e = fresh.source_embedding(source)
    x = fresh.G(e, *fresh.G.sample_noise(2, torch.Generator().manual_seed(0))).image.detach().requires_grad_(True)
    (by_hand,) = torch.autograd.grad(-trained.D(x, e).mean(), x)
    assert grads["adversarial"]["mean_abs"] == pytest.approx(float(by_hand.abs().mean()), rel=1e-5)
    assert grads["adversarial"]["mean_abs"] > 0
    assert "adversarial" not in loss_gradients(fresh, source, target)


def test_unconditional_patch_discriminator_judges_the_image_alone():
    """conditional=False: 3 input channels, no source; a grid of logits, one per patch. Each kind refuses the
    other's call, so that an unconditional D never silently sees a source."""
    image = torch.rand(2, 3, 16, 64)
    local = PatchDiscriminator((16, 64), ndf=8, conditional=False)
    assert local.model[0].in_channels == 3
    scores = local(None, image)
    assert scores.shape[0] == 2 and scores.shape[1] == 1 and scores.shape[2] * scores.shape[3] > 1
    with pytest.raises(ValueError, match="unconditional one takes None"):
        local(torch.rand(2, 3, 32, 32), image)
    with pytest.raises(ValueError, match="needs a source image"):
        PatchDiscriminator((16, 64), ndf=8)(None, image)


@pytest.mark.parametrize("layers, field", [(1, 16), (2, 34), (3, 70), (0, 70)])
def test_patch_discriminator_layers_set_its_receptive_field(layers, field):
    """One logit depends on a field x field window of the image: 16, 34, 70 px for 1, 2, 3 strided layers."""
    local = PatchDiscriminator((64, 256), ndf=4, conditional=False, layers=layers).eval()
    image = torch.rand(1, 3, 64, 256, requires_grad=True)
    scores = local(None, image)
    scores[0, 0, scores.shape[2] // 2, scores.shape[3] // 2].backward()
    cols = image.grad.abs().sum((0, 1, 2)).nonzero()
    assert int(cols.max() - cols.min()) + 1 == field


def test_luma_patch_discriminator_is_blind_to_colour():
    """luma=True: one input channel, Y = 0.299 R + 0.587 G + 0.114 B; two images of the same luma score the same."""
    local = PatchDiscriminator((16, 64), ndf=4, conditional=False, luma=True).eval()
    assert local.model[0].in_channels == 1
    grey = torch.full((1, 3, 16, 64), 0.2)
    red_blue = torch.zeros(1, 3, 16, 64)
    red_blue[:, 0], red_blue[:, 2] = 0.1, (0.2 - 0.299 * 0.1) / 0.114  # another colour, Y = 0.2 too
    assert torch.allclose(to_luma(red_blue), torch.full((1, 1, 16, 64), 0.2))
    assert torch.allclose(local(None, grey), local(None, red_blue), atol=1e-5)
    assert not torch.allclose(local(None, grey), local(None, grey * 2), atol=1e-5)
    assert tiny_trainer("a2g", lambda_patch=1.0, patch_luma=True).D_patch.luma


def test_patch_layers_are_checked():
    with pytest.raises(ValueError, match="takes 1 to 2 layers"):
        PatchDiscriminator((32, 128), ndf=4, conditional=False, layers=3)
    with pytest.raises(ValueError, match="patch_layers and patch_luma need lambda_patch"):
        tiny_trainer("a2g", patch_layers=1)
    with pytest.raises(ValueError, match="patch_layers and patch_luma need lambda_patch"):
        tiny_trainer("a2g", patch_luma=True)
    assert len(tiny_trainer("a2g", lambda_patch=1.0, patch_layers=1).D_patch.model) == 6  # conv, conv-BN, conv


def test_lambda_patch_adds_a_third_discriminator_to_both_updates():
    """lambda_patch > 0: the PatchGAN is checkpointed, trained by the D step on real and fake batches in separate
    calls (its BatchNorm must not see them mixed), and G's loss gains lambda_patch times its eq. 11."""
    assert tiny_trainer("a2g").D_patch is None
    with pytest.raises(ValueError, match="lambda_patch"):
        tiny_trainer("a2g", lambda_patch=-1.0)
    trainer = tiny_trainer("a2g", lambda_patch=2.0)
    assert trainer.modules()["discriminator_patch"] is trainer.D_patch
    d_params = {id(p) for group in trainer.opt_d.param_groups for p in group["params"]}
    assert {id(p) for p in trainer.D_patch.parameters()} <= d_params
    batches = []
    trainer.D_patch.register_forward_hook(lambda module, args, out: batches.append(args[1].shape[0]))
    before = [p.detach().clone() for p in trainer.D_patch.parameters()]
    logs = trainer.train_step(torch.rand(3, 3, 32, 32) * 2 - 1, torch.rand(3, 3, 16, 64) * 2 - 1, step=1)
    assert batches == [3, 3, 3]  # D step: real, then fake; G step: fake
    assert any(not torch.equal(b, p) for b, p in zip(before, trainer.D_patch.parameters(), strict=True))
    w = trainer.cfg.weights  # step 1: no diversity term
    expected = (logs["g_adv"] + w.rec * logs["l1"] + w.perc * logs["perceptual"] + w.id * logs["identity"]
                + 2.0 * logs["g_adv_patch"])
    assert logs["g_loss"] == pytest.approx(expected, rel=1e-5)
    assert math.isfinite(logs["d_patch"])


def test_loss_gradients_adds_the_patch_term_from_a_run_checkpoint(tmp_path):
    """A run with lambda_patch: its PatchGAN comes from the same checkpoint, and its term is weighted as trained."""
    trained = tiny_trainer("a2g", lambda_patch=2.0)
    source, target = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 16, 64) * 2 - 1
    trained.train_step(source, target, step=1)
    folder = TrainingCheckpointer(tmp_path).save(1, trained.modules(), trained.optimizers())
    fresh = GANTrainer(GANConfig(direction="a2g", preset="tiny", lambda_patch=2.0), trained.saig,
                       generator=trained.G)
    TrainingCheckpointer.restore_module(folder, "discriminator_patch", fresh.D_patch)
    trained.G.eval()
    grads = loss_gradients(fresh, source, target, adversarial=True)
    e = fresh.source_embedding(source)
    x = fresh.G(e, *fresh.G.sample_noise(2, torch.Generator().manual_seed(0))).image.detach().requires_grad_(True)
    (by_hand,) = torch.autograd.grad(-2.0 * trained.D_patch(None, x).mean(), x)
    assert grads["patch adversarial"]["mean_abs"] == pytest.approx(float(by_hand.abs().mean()), rel=1e-5)
    assert grads["patch adversarial"]["mean_abs"] > 0


def test_loss_gradients_cli_weighs_by_the_runs_lambdas(synthcity_dir, capsys):
    """--lambda-rec and --lambda-perc reach the trainer: L1's gradient is lambda_rec / numel exactly."""
    common = ["--model", "assets/checkpoints/demo/a2g", "--direction", "a2g", "--data", str(synthcity_dir),
              "--split", "train", "--limit", "2"]
    loss_gradients_main(common)
    default = json.loads(capsys.readouterr().out)
    loss_gradients_main([*common, "--lambda-rec", "10", "--lambda-perc", "10"])
    lighter = json.loads(capsys.readouterr().out)
    assert default["l1"]["mean_abs"] == pytest.approx(50.0 / (2 * 3 * 64 * 256), rel=1e-4)
    assert lighter["l1"]["mean_abs"] == pytest.approx(10.0 / (2 * 3 * 64 * 256), rel=1e-4)
    assert lighter["perceptual"]["mean_abs"] == pytest.approx(default["perceptual"]["mean_abs"] / 5, rel=1e-4)
    assert lighter["identity"]["mean_abs"] == pytest.approx(default["identity"]["mean_abs"], rel=1e-5)


def test_loss_gradients_cli_names_a_missing_checkpoint(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        loss_gradients_main(["--model", "assets/checkpoints/demo/a2g", "--direction", "a2g", "--data", str(tmp_path),
                             "--discriminator", str(tmp_path / "no-checkpoint")])
    assert exit_info.value.code == 2
    assert "missing weights file" in capsys.readouterr().err


@pytest.mark.parametrize("switch", [{"embedder": False}, {"attn_adain": False}, {"style": False},
                                    {"retrieval": False}, {"same_structure": True}, {"coarse_d": False},
                                    {"diffaug": False}, {"diffaug_policy": "color"}, {"diffaug_policy": "cutout"}])
def test_every_ablation_trains(switch):
    trainer = tiny_trainer("a2g", **switch)
    logs = trainer.train_step(torch.rand(3, 3, 32, 32) * 2 - 1, torch.rand(3, 3, 16, 64) * 2 - 1, step=0)
    assert all(math.isfinite(v) for v in logs.values())
    g = trainer.G
    if switch == {"embedder": False}:
        assert g.encoder is not None and g.encoder.head.weight.grad is not None
    if switch == {"attn_adain": False}:
        out = g(torch.randn(1, 256))
        assert all(torch.equal(m, torch.ones_like(m)) for m in out.weight_maps.values())
    if switch == {"style": False}:
        assert g.mapping is None
    if switch == {"coarse_d": False}:
        assert trainer.D_coarse is None and "discriminator_coarse" not in trainer.modules()
    if switch == {"same_structure": True}:
        assert all("structure" in n or "facade(S)" in n for n in g.block_names)


def test_paper_preset_generator_is_about_25_9m_parameters():
    g = build_generator(GANConfig(direction="a2g", preset="paper"), embed_dim=3072)
    assert abs(sum(p.numel() for p in g.parameters()) - 25.9e6) < 0.2e6


def test_vgg16_from_a_safetensors_file(tmp_path):
    """Weights in torchvision/timm naming (extra classifier keys ignored); a missing tensor is an error."""
    torch.manual_seed(0)
    reference = VGG16Features()
    state = {k: v.clone() for k, v in reference.state_dict().items()} | {"head.fc.weight": torch.zeros(2, 2)}
    save_file(state, str(tmp_path / "vgg16.safetensors"))
    loaded = load_vgg16(str(tmp_path / "vgg16.safetensors"))
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    assert all(torch.equal(a, b) for a, b in zip(loaded(x), reference(x), strict=True))
    assert [f.shape[1] for f in loaded(x)] == [64, 128, 256, 512]
    del state["features.0.weight"]
    save_file(state, str(tmp_path / "broken.safetensors"))
    with pytest.raises(CheckpointError, match=r"broken\.safetensors"):
        load_vgg16(str(tmp_path / "broken.safetensors"))
    trainer = tiny_trainer("g2a", vgg16_weights=str(tmp_path / "vgg16.safetensors"))
    assert trainer.perceptual_source.startswith("vgg16")
    trainer.train_step(torch.rand(2, 3, 16, 64) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1, 1)


def generator_cli(data, saig, out, *extra):
    return ["-m", "train.generator", "--data", str(data), "--saig-s", str(saig), "--preset", "tiny",
            "--batch-size", "3", "--workers", "0", "--sample-every", "2", "--checkpoint-every", "1",
            "--log-every", "1", "--out", str(out), *extra]


def test_resumed_run_ends_with_the_same_parameters(synthcity_dir, tiny_saig, tmp_path):
    r = _run(generator_cli(synthcity_dir, tiny_saig, tmp_path / "full", "--max-steps", "4"))
    assert r.returncode == 0, r.stderr[-2000:]
    r = _run(generator_cli(synthcity_dir, tiny_saig, tmp_path / "part", "--max-steps", "2"))
    assert r.returncode == 0, r.stderr[-2000:]
    r = _run(generator_cli(synthcity_dir, tiny_saig, tmp_path / "part", "--max-steps", "4", "--resume"))
    assert r.returncode == 0 and "resumed from" in r.stderr, r.stderr[-2000:]
    full = load_file(str(tmp_path / "full" / "generator" / "model.safetensors"))
    part = load_file(str(tmp_path / "part" / "generator" / "model.safetensors"))
    assert full.keys() == part.keys() and all(torch.equal(full[k], part[k]) for k in full)
    assert (tmp_path / "full" / "samples" / "step-0000002.png").is_file()
    assert (tmp_path / "full" / "curves.png").is_file()
    config = json.loads((tmp_path / "full" / "config.json").read_text())
    assert config["perceptual_features"].startswith("saig-s stem")
    records = [json.loads(x) for x in (tmp_path / "full" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3, 4]
    assert {"d_loss", "g_adv", "l1", "perceptual", "identity", "diversity"} <= set().union(*records)


def test_wall_clock_budget_stops_the_run_and_counts_over_resumes(synthcity_dir, tiny_saig, tmp_path):
    out = tmp_path / "timed"
    r = _run(generator_cli(synthcity_dir, tiny_saig, out, "--max-minutes", "0.0001"))  # 6 ms: one step
    assert r.returncode == 0, r.stderr[-2000:]
    assert [json.loads(x)["step"] for x in (out / "log.jsonl").read_text().splitlines()] == [1]
    state = json.loads((out / "checkpoints" / "step-000000001" / "state.json").read_text())
    assert state["extra"]["train_seconds"] > 0.006 and (out / "generator" / "model.safetensors").is_file()
    r = _run(generator_cli(synthcity_dir, tiny_saig, out, "--max-minutes", "0.0001", "--resume"))
    assert r.returncode == 0 and "done at step 1 " in r.stderr, r.stderr[-2000:]  # the budget is already spent
    r = _run(generator_cli(synthcity_dir, tiny_saig, out, "--max-minutes", "60", "--max-steps", "3", "--resume"))
    assert r.returncode == 0 and "done at step 3 " in r.stderr, r.stderr[-2000:]


def test_init_starts_from_a_generator_folder_and_resume_wins(synthcity_dir, tiny_saig, tmp_path, capfd):
    from train.generator import GeneratorTrainConfig, train
    from train.pix2pix import Pix2PixTrainConfig, build_pix2pix_trainer

    common = dict(data=str(synthcity_dir), saig_s=str(tiny_saig), preset="tiny", batch_size=3, workers=0,
                  checkpoint_every=1, sample_every=100, device="cpu")
    train(GeneratorTrainConfig(out=str(tmp_path / "start"), max_steps=2, **common))
    start = load_file(str(tmp_path / "start" / "generator" / "model.safetensors"))
    train(GeneratorTrainConfig(out=str(tmp_path / "zero"), epochs=0, init=str(tmp_path / "start" / "generator"),
                               **common))
    zero = load_file(str(tmp_path / "zero" / "generator" / "model.safetensors"))
    assert start.keys() == zero.keys() and all(torch.equal(start[k], zero[k]) for k in start)  # no step: the init

    go_on = GeneratorTrainConfig(out=str(tmp_path / "on"), max_steps=1, init=str(tmp_path / "start" / "generator"),
                                 resume=True, **common)
    train(go_on)
    assert "starting from the generator weights" in capfd.readouterr().err
    one = load_file(str(tmp_path / "on" / "generator" / "model.safetensors"))
    assert any(not torch.equal(start[k], one[k]) for k in start)  # one step from the init moved the weights
    train(dataclasses.replace(go_on, max_steps=2))
    err = capfd.readouterr().err
    assert "resumed from" in err and "starting from" not in err  # the run's own checkpoint wins over --init

    p2p_common = {k: v for k, v in common.items() if k != "saig_s"}
    train(Pix2PixTrainConfig(out=str(tmp_path / "p2p"), max_steps=1, **p2p_common), build_pix2pix_trainer, "pix2pix")
    with pytest.raises(CheckpointError, match="does not fit"):  # a Pix2Pix U-Net is not this generator
        train(GeneratorTrainConfig(out=str(tmp_path / "bad"), max_steps=1, init=str(tmp_path / "p2p" / "generator"),
                                   **common))


def test_tuned_embedder_starts_as_saig_s_and_trains_with_g_while_the_losses_saig_s_stays_frozen():
    """tune_embedder_lr: G's own copy of SAIG-S's source branch, at first SAIG-S's exactly, in its own optimizer
    group; a step moves it and G, not the frozen SAIG-S that eq. 8 and 9 (and the pipeline's embedder) use."""
    trainer = tiny_trainer("a2g", tune_embedder_lr=1e-3)
    source, target = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 16, 64) * 2 - 1
    assert torch.equal(trainer.source_embedding(source), trainer.saig.embed(source, "aerial"))
    tuned_group, rest_group = trainer.opt_g.param_groups[1], trainer.opt_g.param_groups[0]
    assert tuned_group["lr"] == 1e-3 and rest_group["lr"] == trainer.cfg.lr_g
    assert {id(p) for p in tuned_group["params"]} == {id(p) for p in trainer.G.encoder.parameters()}
    assert len(rest_group["params"]) + len(tuned_group["params"]) == len(list(trainer.G.parameters()))
    saig_before = {k: v.clone() for k, v in trainer.saig.state_dict().items()}
    trainer.train_step(source, target, step=1)
    assert all(torch.equal(v, trainer.saig.state_dict()[k]) for k, v in saig_before.items())
    assert not torch.equal(trainer.source_embedding(source), trainer.saig.embed(source, "aerial"))
    with pytest.raises(ValueError, match="tune_embedder_lr"):
        tiny_trainer("a2g", tune_embedder_lr=1e-3, embedder=False)
    with pytest.raises(ValueError, match="tune_embedder_lr"):
        tiny_trainer("a2g", tune_embedder_lr=-1.0)
    with pytest.raises(ValueError, match="choose one"):
        Generator((16, 64), 16, (32, 16, 8, 8), own_encoder_size=(32, 32),
                  source_branch=SAIG.from_preset("tiny").branch_config("aerial"))


def test_tuned_embedder_is_saved_with_g_and_a_pipeline_embeds_with_it(synthcity_dir, tiny_saig, tmp_path):
    """The run's generator folder holds its source branch (config and weights); a pipeline built from it embeds
    a2g's sources with that branch, not with its own SAIG-S. --init from a generator without one (the shipped
    a2g) starts the branch from SAIG-S."""
    from crossview.checkpoint import load_model
    from crossview.pipeline import CrossViewPipeline
    from train.generator import GeneratorTrainConfig, train

    common = dict(data=str(synthcity_dir), saig_s=str(tiny_saig), preset="tiny", batch_size=3, workers=0,
                  checkpoint_every=1, sample_every=100, device="cpu")
    train(GeneratorTrainConfig(out=str(tmp_path / "plain"), max_steps=1, **common))
    train(GeneratorTrainConfig(out=str(tmp_path / "tuned"), max_steps=2, tune_embedder_lr=1e-3,
                               init=str(tmp_path / "plain" / "generator"), **common))
    g = load_model(Generator, tmp_path / "tuned" / "generator")
    saig = load_model(SAIG, tiny_saig)
    assert isinstance(g.encoder, type(saig.aerial))
    assert any(not torch.equal(v, saig.aerial.state_dict()[k]) for k, v in g.encoder.state_dict().items())
    plain = load_file(str(tmp_path / "plain" / "generator" / "model.safetensors"))
    tuned = load_file(str(tmp_path / "tuned" / "generator" / "model.safetensors"))
    assert set(tuned) - set(plain) == {f"encoder.{k}" for k in saig.aerial.state_dict()}

    pipe = CrossViewPipeline(saig, {"a2g": g})
    source = torch.rand(1, 3, 32, 32) * 2 - 1
    z, z_local = g.sample_noise(1, torch.Generator().manual_seed(3))
    assert torch.equal(pipe.generate(source, "a2g", [3]).image, g(g.encoder(source), z, z_local).image)
    assert not torch.equal(pipe.generate(source, "a2g", [3]).image, g(saig.embed(source, "aerial"), z, z_local).image)


def test_ema_averages_weights_and_batchnorm_statistics_and_copies_spectral_norm_vectors():
    torch.manual_seed(0)
    g = torch.nn.Sequential(sn_conv(3, 4, 3), torch.nn.BatchNorm2d(4))
    g(torch.randn(2, 3, 8, 8))  # one training pass: BatchNorm's statistics and spectral norm's u, v move
    ema = GeneratorEMA(g, kimg=0.004, rampup=0)  # half-life 4 images
    before = {k: v.clone() for k, v in ema.module.state_dict().items()}
    assert ema.beta(batch=4, images_seen=1000) == 0.5
    assert ema.beta(batch=4, images_seen=1000) == GeneratorEMA(g, 0.004, rampup=0.05).beta(4, 1000)  # ramp-up over
    assert GeneratorEMA(g, 0.004, rampup=0.05).beta(batch=2, images_seen=40) == 0.5  # half-life 0.05 x 40 = 2
    with torch.no_grad():
        for p in g.parameters():
            p.add_(1.0)
    g(torch.randn(2, 3, 8, 8))
    ema.update(g, batch=4, images_seen=1000)
    now, avg = g.state_dict(), ema.module.state_dict()
    for k in avg:
        if k.endswith(("original", "bias", "1.weight", "running_mean", "running_var")):  # weights and BN statistics
            assert torch.allclose(avg[k], (before[k] + now[k]) / 2), k
        else:  # u, v and num_batches_tracked follow G
            assert k.endswith(("_u", "_v", "num_batches_tracked")) and torch.equal(avg[k], now[k]), k
    assert not ema.module.training and not any(p.requires_grad for p in ema.module.parameters())
    with pytest.raises(ValueError, match="half-life"):
        GeneratorEMA(g, kimg=0)


def test_ema_generator_is_written_starts_at_init_or_resume_and_resumes_exactly(synthcity_dir, tmp_path):
    from train.generator import train
    from train.pix2pix import Pix2PixTrainConfig, build_pix2pix_trainer

    common = dict(data=str(synthcity_dir), preset="tiny", batch_size=3, workers=0, checkpoint_every=1,
                  sample_every=100, device="cpu", ema_kimg=0.01)

    def run(name, **kw):
        train(Pix2PixTrainConfig(out=str(tmp_path / name), **common, **kw), build_pix2pix_trainer, "pix2pix")
        return {w: load_file(str(tmp_path / name / w / "model.safetensors")) for w in ("generator", "generator-ema")}

    full = run("full", max_steps=4)
    run("part", max_steps=2)
    part = run("part", max_steps=4, resume=True)
    for w in full:  # the average is in the checkpoint: a resumed run ends with the same one
        assert all(torch.equal(full[w][k], part[w][k]) for k in full[w]), w
    assert any(not torch.equal(full["generator"][k], full["generator-ema"][k]) for k in full["generator"])
    start = run("start", epochs=0, init=str(tmp_path / "full" / "generator"))["generator-ema"]
    assert all(torch.equal(start[k], full["generator"][k]) for k in start)  # --init: the average starts there
    train(Pix2PixTrainConfig(out=str(tmp_path / "plain"), **(common | {"ema_kimg": 0}), max_steps=1),
          build_pix2pix_trainer, "pix2pix")
    plain = load_file(str(tmp_path / "plain" / "generator" / "model.safetensors"))
    resumed = run("plain", epochs=0, max_steps=1, resume=True)  # no step left: the average is where it started
    assert all(torch.equal(resumed["generator-ema"][k], plain[k]) for k in plain)  # a run without one: from there
    later = run("plain", max_steps=3, resume=True)
    assert any(not torch.equal(later["generator"][k], later["generator-ema"][k]) for k in plain)


@pytest.mark.parametrize("port, extra", [(29519, []), (29520, ["--lambda-patch", "1"])])  # with the PatchGAN too
def test_generator_ddp_two_cpu_processes(synthcity_dir, tiny_saig, tmp_path, port, extra):
    r = _run(["-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(port),
              *generator_cli(synthcity_dir, tiny_saig, tmp_path / "ddp", "--batch-size", "2", "--max-steps", "2",
                             "--device", "cpu", "--direction", "g2a", "--max-minutes", "30", *extra)])
    assert r.returncode == 0, r.stderr[-3000:]
    assert json.loads((tmp_path / "ddp" / "config.json").read_text())["world_size"] == 2
    assert (tmp_path / "ddp" / "generator" / "model.safetensors").is_file()
