"""The retrieval-guided generator (paper section 3.3, figure 2).

r~ (the frozen SAIG-S embedding of the source view) -> FC -> a small map in the target's aspect ratio
(4 x 16 for a 64 x 256 panorama, 4 x 4 for an aerial) -> *structure* stages (ResBlock-S) up to 32 px on the
short side -> coarse RGB X'_r -> concatenated with Gaussian noise z_local -> *facade* stages (ResBlock-T,
style w from the mapping network) -> toRGB -> tanh -> X_r.

``Generator.forward`` returns the image, the coarse image and the weight map M of every Attn-AdaIN layer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from crossview.models.attn_adain import AttentionalAdaIN, MappingNetwork, StyleAdaIN, instance_norm
from crossview.models.embedder import SAIGBranch

CHANNELS_LAST = torch.channels_last
STRUCTURE_MAX_SIDE = 32  # structure below and at 32 px, facades above (paper section 3.3)


def sn_conv(c_in: int, c_out: int, k: int) -> nn.Module:
    return spectral_norm(nn.Conv2d(c_in, c_out, k, padding=k // 2))


def upsample(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2, mode="nearest")


# Which of a 3x3 kernel's taps (columns) land on which low-resolution offset -1, 0, +1 (rows), for the even
# (0) and odd (1) output pixels of a 3x3 convolution applied after 2x nearest upsampling.
_SUBPIXEL_TAPS = torch.tensor([[[1, 0, 0], [0, 1, 1], [0, 0, 0]],
                               [[0, 0, 0], [1, 1, 0], [0, 0, 1]]], dtype=torch.float32)


def upsample_conv3x3(x: torch.Tensor, conv: nn.Conv2d) -> torch.Tensor:
    """conv(upsample(x)), computed exactly without building the upsampled map.

    Each of the four output phases (even/odd row x even/odd column) is a 3x3 convolution of x whose taps
    are sums of conv's taps; one convolution with 4x the output channels and a pixel shuffle gives all
    four. Same weights, same result, and faster on CPU at the facade resolutions (no 4x larger input to
    build and read).
    """
    taps = _SUBPIXEL_TAPS.to(conv.weight)
    weight = torch.einsum("apu,bqv,oiuv->oabipq", taps, taps, conv.weight).flatten(0, 2)
    bias = conv.bias.repeat_interleave(4) if conv.bias is not None else None
    return F.pixel_shuffle(F.conv2d(x, weight, bias, padding=1), 2).contiguous(memory_format=CHANNELS_LAST)


class ResBlockS(nn.Module):
    """Structure block: Attn-AdaIN on the main and the residual path, spectral-norm convs, 2x upsampling.

        main     = conv3x3(act(AttnAdaIN_2(conv3x3(up(act(AttnAdaIN_1(x, r)))), r)))
        shortcut = conv1x1(up(AttnAdaIN_s(x, r)))  = up(conv1x1(AttnAdaIN_s(x, r)))  (a 1x1 conv commutes
        out      = main + shortcut                   with nearest upsampling: 4x fewer pixels)
    """

    def __init__(self, c_in: int, c_out: int, cond_dim: int, attentional: bool = True):
        super().__init__()
        self.norm1 = AttentionalAdaIN(c_in, cond_dim, attentional=attentional)
        self.norm2 = AttentionalAdaIN(c_out, cond_dim, attentional=attentional)
        self.norm_skip = AttentionalAdaIN(c_in, cond_dim, attentional=attentional)
        self.conv1, self.conv2 = sn_conv(c_in, c_out, 3), sn_conv(c_out, c_out, 3)
        self.skip = sn_conv(c_in, c_out, 1)

    def forward(self, x: torch.Tensor, r: torch.Tensor, w: torch.Tensor | None = None):
        h, m1 = self.norm1(x, r)
        h = self.conv1(upsample(F.leaky_relu(h, 0.2, inplace=True)))
        h, m2 = self.norm2(h, r)
        h = self.conv2(F.leaky_relu(h, 0.2, inplace=True))
        s, m_skip = self.norm_skip(x, r)
        return h + upsample(self.skip(s)), {"main1": m1, "main2": m2, "shortcut": m_skip}


class ResBlockT(nn.Module):
    """Facade block: StyleGAN-like AdaIN(w) + conv, then a residual Attn-AdaIN(r) path scaled by a layer scale.

        x = act(conv3x3(AdaIN(up(x), w)));  x = act(conv3x3(AdaIN(x, w)))
        out = x + layer_scale * conv3x3(act(AttnAdaIN(x, r)))
    ``w`` None (the 'w/o style' ablation) leaves plain instance normalisation. AdaIN(up(x)) is computed as
    up(AdaIN(x)): nearest upsampling keeps each channel's mean and variance, so the two are equal, and the
    second touches 4x fewer pixels.
    """

    def __init__(self, c_in: int, c_out: int, cond_dim: int, w_dim: int, attentional: bool = True,
                 layer_scale: float = 0.1):
        super().__init__()
        self.style1, self.style2 = StyleAdaIN(c_in, w_dim), StyleAdaIN(c_out, w_dim)
        self.conv1, self.conv2 = nn.Conv2d(c_in, c_out, 3, padding=1), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.norm = AttentionalAdaIN(c_out, cond_dim, attentional=attentional)
        self.conv3 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.layer_scale = nn.Parameter(torch.full((1, c_out, 1, 1), layer_scale))

    def _style(self, layer: StyleAdaIN, x: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
        return instance_norm(x) if w is None else layer(x, w)

    def forward(self, x: torch.Tensor, r: torch.Tensor, w: torch.Tensor | None = None):
        x = F.leaky_relu(upsample_conv3x3(self._style(self.style1, x, w), self.conv1), 0.2, inplace=True)
        x = F.leaky_relu(self.conv2(self._style(self.style2, x, w)), 0.2, inplace=True)
        h, m = self.norm(x, r)
        return torch.addcmul(x, self.layer_scale, self.conv3(F.leaky_relu(h, 0.2, inplace=True))), {"residual": m}


@dataclass
class GeneratorOutput:
    image: torch.Tensor  # N x 3 x H x W in [-1, 1]
    coarse: torch.Tensor  # N x 3 x h x w in [-1, 1], h = min(H / 2, 32)
    weight_maps: dict[str, torch.Tensor]  # layer name -> N x 1 x h_l x w_l in [0, 1]


class Generator(nn.Module, PyTorchModelHubMixin, library_name="crossview", tags=["cross-view", "gan"]):
    """X_r, X'_r = G(r~, z, z_local) for one direction; the constructor arguments are its config.json.

    Ablation switches (paper table 4): ``attentional=False`` (w/o Attn-AdaIN: M = 1), ``use_style=False``
    (w/o style: no mapping network, no AdaIN(w)), ``use_retrieval=False`` (w/o Ret.: the normalisation layers
    do not see r~, only the input FC does), ``same_structure=True`` (ResBlock-S at every stage), and
    ``own_encoder_size=(H, W)`` (w/o embedder: a trainable encoder of source images of that size replaces the
    frozen SAIG-S; ``encoder`` embeds a source).

    Beyond the paper, ``source_branch`` (``SAIG.branch_config``'s arguments) gives the generator its own copy of
    SAIG-S's source branch, tuned with it (``GANConfig.tune_embedder_lr``), in place of the frozen one.
    """

    def __init__(self, target_size: tuple[int, int] = (64, 256), embed_dim: int = 1536,
                 channels: tuple[int, ...] = (256, 128, 64, 32, 16, 16), fc_channels: int = 32,
                 cond_dim: int = 256, z_dim: int = 64, w_dim: int = 128, noise_channels: int = 8,
                 attentional: bool = True, use_style: bool = True, use_retrieval: bool = True,
                 same_structure: bool = False, own_encoder_size: tuple[int, int] | None = None,
                 source_branch: dict | None = None):
        super().__init__()
        h, w = target_size
        levels = math.log2(h / 4)
        if levels != int(levels) or w % (h // 4) or h < 8:
            raise ValueError(f"target height must be 4 * 2^k (k >= 1) and the width a multiple of height/4, "
                             f"got {target_size}")
        levels = int(levels)
        if len(channels) < levels + 1:
            raise ValueError(f"{levels + 1} channel widths needed for {target_size}, got {channels}")
        self.target_size = (h, w)
        self.start = (4, 4 * w // h)
        # Structure up to 32 px; a small target (tests) keeps its last stage for facades, so noise and style
        # always enter the network.
        self.structure_levels = int(math.log2(min(h // 2, STRUCTURE_MAX_SIDE) / 4))
        self.coarse_size = (4 * 2**self.structure_levels, self.start[1] * 2**self.structure_levels)
        self.z_dim, self.noise_channels = z_dim, noise_channels
        self.use_style, self.use_retrieval = use_style, use_retrieval

        self.cond = nn.Sequential(nn.Linear(embed_dim, cond_dim), nn.LeakyReLU(0.2))  # the MLPs' shared first layer
        self.fc = nn.Linear(embed_dim, fc_channels * self.start[0] * self.start[1])
        self.fc_channels = fc_channels
        self.stem = nn.Conv2d(fc_channels, channels[0], 3, padding=1)
        self.mapping = MappingNetwork(z_dim, w_dim) if use_style else None

        self.blocks = nn.ModuleList()
        self.block_names = []
        for level in range(1, levels + 1):
            c_in, c_out = channels[level - 1], channels[level]
            if level == self.structure_levels + 1:
                c_in += noise_channels  # z_local joins after the structure stages
            side = 4 * 2**level
            if level <= self.structure_levels or same_structure:
                self.blocks.append(ResBlockS(c_in, c_out, cond_dim, attentional))
                self.block_names.append(f"structure {side}px" if level <= self.structure_levels else
                                        f"facade(S) {side}px")
            else:
                self.blocks.append(ResBlockT(c_in, c_out, cond_dim, w_dim, attentional))
                self.block_names.append(f"facade {side}px")
        c_coarse = channels[self.structure_levels]
        self.to_rgb_coarse = nn.Conv2d(c_coarse, 3, 1)
        self.to_rgb = nn.Conv2d(channels[levels], 3, 3, padding=1)
        if own_encoder_size and source_branch:
            raise ValueError("own_encoder_size and source_branch both give the generator an encoder: choose one")
        self.encoder = TrainableEncoder(tuple(own_encoder_size), embed_dim) if own_encoder_size else None
        if source_branch:
            self.encoder = SAIGBranch(**source_branch)
            if self.encoder.embed_dim != embed_dim:
                raise ValueError(f"source_branch embeds to {self.encoder.embed_dim} numbers, the generator takes "
                                 f"{embed_dim}")
            self.encoder.eval()  # and so it stays (see train)

    def train(self, mode: bool = True) -> Generator:
        super().train(mode)
        if isinstance(self.encoder, SAIGBranch):  # a tuned SAIG-S branch keeps SAIG-S's BatchNorm statistics
            self.encoder.eval()
        return self

    def sample_noise(self, n: int, generator: torch.Generator | None = None, device=None):
        """(z, z_local): the style code and the spatial noise map, drawn from a seeded generator."""
        device = device or self.fc.weight.device
        z = torch.randn(n, self.z_dim, generator=generator, device=generator.device if generator else device)
        z_local = torch.randn(n, self.noise_channels, *self.coarse_size, generator=generator,
                              device=generator.device if generator else device)
        return z.to(device), z_local.to(device)

    def forward(self, embedding: torch.Tensor, z: torch.Tensor | None = None, z_local: torch.Tensor | None = None
                ) -> GeneratorOutput:
        n = embedding.shape[0]
        if z is None or z_local is None:
            z_new, z_local_new = self.sample_noise(n, device=embedding.device)
            z = z_new if z is None else z
            z_local = z_local_new if z_local is None else z_local
        r = self.cond(embedding)
        if not self.use_retrieval:
            r = torch.zeros_like(r)
        w = self.mapping(z) if self.mapping is not None else None
        # Channels-last all the way: oneDNN's CPU convolutions are much faster in it than in NCHW.
        x = self.fc(embedding).view(n, self.fc_channels, *self.start).contiguous(memory_format=CHANNELS_LAST)
        x = F.leaky_relu(self.stem(x), 0.2)
        maps: dict[str, torch.Tensor] = {}
        for level, (block, name) in enumerate(zip(self.blocks, self.block_names, strict=True), start=1):
            if level == self.structure_levels + 1:
                coarse = torch.tanh(self.to_rgb_coarse(x))
                x = torch.cat([x, z_local], dim=1).contiguous(memory_format=CHANNELS_LAST)
            x, block_maps = block(x, r, w)
            maps.update({f"{name} {part}": m for part, m in block_maps.items()})
        image = torch.tanh(self.to_rgb(x)).contiguous()
        return GeneratorOutput(image, coarse.contiguous(), {k: m.contiguous() for k, m in maps.items()})


class TrainableEncoder(nn.Module):
    """The 'w/o embedder' ablation: a Pix2Pix-style conv encoder trained with G instead of the frozen SAIG-S.

    image (N, 3, H, W) -> stride-2 convs to 4 px on the short side -> global average -> Linear -> embed_dim.
    """

    def __init__(self, image_size: tuple[int, int], embed_dim: int, width: int = 32, max_width: int = 256):
        super().__init__()
        layers, c, side = [], 3, min(image_size)
        out = width
        while side > 4:
            layers += [nn.Conv2d(c, out, 4, 2, 1), nn.InstanceNorm2d(out, affine=True), nn.LeakyReLU(0.2)]
            c, out, side = out, min(out * 2, max_width), side // 2
        self.net = nn.Sequential(*layers)
        self.head = nn.Linear(c, embed_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.head(self.net(x).mean((2, 3))), dim=1)
