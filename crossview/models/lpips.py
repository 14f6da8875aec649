"""LPIPS (Zhang et al., 2018) with the AlexNet backbone, in plain PyTorch (torchvision does not import here).

    d(x, y) = sum_l mean_hw  w_l . (f_l(x) / ||f_l(x)|| - f_l(y) / ||f_l(y)||)^2

f_l: AlexNet ``features`` after each of its five ReLUs, on inputs shifted and scaled by LPIPS's constants;
w_l: LPIPS's learned non-negative 1x1 weights. The backbone weights are torchvision's ImageNet AlexNet
(``alexnet-owt-7be5be79.pth``; parameter names ``features.{0,3,6,8,10}``); the linear weights are the
``alex.pth`` that torchmetrics ships (or the lpips package's). ``load_lpips`` finds both or says why not.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from crossview.models.pretrained import find_weights, load_pretrained, read_state, tapped_features

ALEXNET_FILES = ("alexnet-owt-7be5be79.pth", "alexnet-owt-4df8aa71.pth", "alexnet.safetensors")
CHANNELS = (64, 192, 384, 256, 256)
TAPS = (1, 4, 7, 9, 11)  # indices of the ReLUs in torchvision's alexnet.features


class AlexNetFeatures(nn.Module):
    """torchvision's AlexNet ``features`` up to the fifth ReLU (same parameter names)."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU())

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return tapped_features(self.features, x, TAPS)


class LPIPS(nn.Module):
    """LPIPS distance per image pair; images in [-1, 1], (N, 3, H, W). AlexNet's strides need >= 31 px, so a
    smaller image (only the tests' tiny preset has any) is first upsampled to MIN_SIDE on its short side."""

    MIN_SIDE = 64

    def __init__(self):
        super().__init__()
        self.net = AlexNetFeatures()
        self.lins = nn.ModuleList(nn.Conv2d(c, 1, 1, bias=False) for c in CHANNELS)
        self.register_buffer("shift", torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("scale", torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if min(x.shape[-2:]) < self.MIN_SIDE:
            factor = self.MIN_SIDE / min(x.shape[-2:])
            x, y = (F.interpolate(t, scale_factor=factor, mode="bilinear", align_corners=False) for t in (x, y))
        fx = self.net((x - self.shift) / self.scale)
        fy = self.net((y - self.shift) / self.scale)
        total = 0
        for a, b, lin in zip(fx, fy, self.lins, strict=True):
            diff = (F.normalize(a, dim=1, eps=1e-10) - F.normalize(b, dim=1, eps=1e-10)) ** 2
            total = total + lin(diff).mean((2, 3))
        return total.flatten()


def linear_weights_file() -> Path | None:
    """LPIPS v0.1 AlexNet linear weights shipped inside torchmetrics or the lpips package."""
    for package, relative in (("torchmetrics", "functional/image/lpips_models/alex.pth"),
                              ("lpips", "weights/v0.1/alex.pth")):
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.origin:
            path = Path(spec.origin).parent / relative
            if path.is_file():
                return path
    return None


def load_lpips(device: str | torch.device = "cpu") -> tuple[LPIPS | None, str]:
    """(the metric, "") when the AlexNet and the LPIPS linear weights are found here, else (None, why)."""
    backbone, why = find_weights("CROSSVIEW_ALEXNET", ALEXNET_FILES)
    if backbone is None:
        return None, f"LPIPS needs torchvision's ImageNet AlexNet weights: {why}"
    lin = linear_weights_file()
    if lin is None:
        return None, "LPIPS needs its linear weights (alex.pth from torchmetrics or lpips); neither is installed"
    model = LPIPS()
    load_pretrained(model.net, read_state(backbone), backbone)
    rename = {f"lin{i}.model.1.weight": f"{i}.weight" for i in range(len(CHANNELS))}
    load_pretrained(model.lins, read_state(lin), lin, rename)
    return model.to(device).eval(), ""
