"""SAIG: the retrieval embedder that guides the generator (paper section 3.2; DESIGN.md "Embedder").

Two unshared branches, one per view. Each branch: a stride-16 convolutional stem, a learned position
embedding, a stack of attention-only blocks, a final LayerNorm and a head (SMD or GAP); the output is
L2-normalised, so the cosine of two embeddings is their dot product. SAIG-S (11 blocks) is the
generator's frozen guide; SAIG-D (22 blocks) is trained separately as the R@1 evaluator.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from crossview.presets import VIEWS, get_preset


class ConvStem(nn.Module):
    """Six 3x3 conv + BN + ReLU (strides 2, 2, 1, 2, 1, 2) then a 1x1 conv to ``dim``: stride 16."""

    STRIDES = (2, 2, 1, 2, 1, 2)

    def __init__(self, channels: tuple[int, ...], dim: int):
        super().__init__()
        layers, c_in = [], 3
        for c_out, stride in zip(channels, self.STRIDES, strict=True):
            layers.append(nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out),
                                        nn.ReLU(inplace=True)))
            c_in = c_out
        self.stages = nn.ModuleList(layers)
        self.proj = nn.Conv2d(c_in, dim, 1)

    def forward(self, x: torch.Tensor, return_features: bool = False):
        features = []
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        x = self.proj(x)
        return (x, features) if return_features else x


class AttentionBlock(nn.Module):
    """x + MHSA(LN(x)): pre-norm multi-head self-attention with qkv bias, residual, and no MLP."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.norm = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(self.norm(x)).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v)
        return x + self.proj(y.transpose(1, 2).reshape(b, n, d))


class SMDHead(nn.Module):
    """Spatial-mixing descriptor: mix along the token axis, reduce N tokens to 8, flatten to 8 * dim.

    x (B, N, D) -> x^T (B, D, N) -> Linear(N, 4N) -> GELU -> Linear(4N, N) -> Linear(N, 8) -> (B, 8 D).
    """

    def __init__(self, tokens: int, out_tokens: int = 8):
        super().__init__()
        self.mix = nn.Sequential(nn.Linear(tokens, 4 * tokens), nn.GELU(), nn.Linear(4 * tokens, tokens))
        self.reduce = nn.Linear(tokens, out_tokens)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.reduce(self.mix(x.transpose(1, 2))).flatten(1)


class GAPHead(nn.Module):
    """Global average pooling over tokens: (B, N, D) -> (B, D)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(1)


class SAIGBranch(nn.Module):
    """One view's encoder: image (B, 3, H, W) in [-1, 1] -> L2-normalised embedding (B, embed_dim)."""

    def __init__(self, image_size: tuple[int, int], stem: tuple[int, ...], dim: int, heads: int, depth: int,
                 head: str):
        super().__init__()
        h, w = image_size
        if h % 16 or w % 16:
            raise ValueError(f"SAIG needs image sides divisible by 16, got {image_size}")
        if dim % heads:
            raise ValueError(f"dim {dim} is not divisible by heads {heads}")
        self.tokens = (h // 16) * (w // 16)
        self.stem = ConvStem(stem, dim)
        self.pos_embed = nn.Parameter(torch.zeros(1, self.tokens, dim))
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        self.blocks = nn.ModuleList(AttentionBlock(dim, heads) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.head = SMDHead(self.tokens) if head == "smd" else GAPHead()
        self.embed_dim = dim * 8 if head == "smd" else dim

    def encode_tokens(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The normalised tokens (B, N, D) before the head, and the stem's feature maps."""
        x, stem = self.stem(x, return_features=True)
        x = x.flatten(2).transpose(1, 2) + self.pos_embed
        for block in self.blocks:
            x = block(x)
        return self.norm(x), stem

    def forward(self, x: torch.Tensor, return_stem: bool = False):
        """The embedding; with ``return_stem`` also the stem's feature maps (perceptual features, one pass)."""
        tokens, stem = self.encode_tokens(x)
        e = self.embed_tokens(tokens)
        return (e, stem) if return_stem else e

    def embed_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """The embedding of ``encode_tokens``' tokens: the head, L2-normalised."""
        return F.normalize(self.head(tokens), dim=-1)

    def pooled_features(self, x: torch.Tensor) -> torch.Tensor:
        """Mean of the final tokens, (B, D): a compact feature space for Frechet distances."""
        return self.encode_tokens(x)[0].mean(1)

    def stem_features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The stem's intermediate feature maps (the perceptual loss's fallback features)."""
        return self.stem(x, return_features=True)[1]


class SAIG(nn.Module, PyTorchModelHubMixin, library_name="crossview", tags=["cross-view", "retrieval"]):
    """The two-branch retrieval embedder; its constructor arguments are its config.json."""

    def __init__(self, aerial_size: tuple[int, int] = (128, 128), ground_size: tuple[int, int] = (64, 256),
                 stem: tuple[int, ...] = (32, 64, 64, 128, 128, 256), dim: int = 192, heads: int = 6,
                 depth: int = 11, head: str = "smd"):
        super().__init__()
        if head not in ("smd", "gap"):
            raise ValueError(f"head must be 'smd' or 'gap', got {head!r}")
        self.aerial_size, self.ground_size = tuple(aerial_size), tuple(ground_size)
        self._branch_args = {"stem": list(stem), "dim": dim, "heads": heads, "depth": depth, "head": head}
        self.aerial = SAIGBranch(self.aerial_size, tuple(stem), dim, heads, depth, head)
        self.ground = SAIGBranch(self.ground_size, tuple(stem), dim, heads, depth, head)
        self.embed_dim = self.aerial.embed_dim

    @classmethod
    def from_preset(cls, preset: str, variant: str = "s", head: str = "smd") -> SAIG:
        """SAIG-S (variant 's', the generator's guide) or SAIG-D ('d', the evaluator) at a preset's sizes."""
        p = get_preset(preset)
        depth = {"s": p.saig_s_depth, "d": p.saig_d_depth}[variant]
        return cls(aerial_size=p.aerial_size, ground_size=p.ground_size, stem=p.saig_stem, dim=p.saig_dim,
                   heads=p.saig_heads, depth=depth, head=head)

    def branch_config(self, view: str) -> dict:
        """The arguments that build a copy of one view's branch: ``SAIGBranch(**branch_config(view))``."""
        return {"image_size": list(self.image_size(view)), **self._branch_args}

    def branch(self, view: str) -> SAIGBranch:
        if view not in VIEWS:
            raise ValueError(f"view must be one of {VIEWS}, got {view!r}")
        return self.aerial if view == "aerial" else self.ground

    def image_size(self, view: str) -> tuple[int, int]:
        """(H, W) of the images the view's branch embeds."""
        self.branch(view)  # checks the view
        return self.aerial_size if view == "aerial" else self.ground_size

    def embed(self, image: torch.Tensor, view: str) -> torch.Tensor:
        return self.branch(view)(image)

    def forward(self, aerial: torch.Tensor, ground: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.aerial(aerial), self.ground(ground)
