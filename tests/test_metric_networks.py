"""LPIPS (AlexNet) and FID (Inception): found in the torch hub cache or by environment variable, loaded from
the standard files' layouts, computed by train.evaluate, and checked against torchmetrics' LPIPS.

No real weights exist on this machine, so the tests write random weights under the standard file names and
parameter names; what they check is the architecture, the loading and the arithmetic, not ImageNet features.
"""

from __future__ import annotations

import json

import pytest
import torch

from crossview.checkpoint import CheckpointError
from crossview.models.inception import FIDInceptionV3, load_inception
from crossview.models.lpips import LPIPS, AlexNetFeatures, linear_weights_file, load_lpips
from train.evaluate import main as evaluate_main


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """An empty torch hub cache, and no weights named by environment variables."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    monkeypatch.delenv("CROSSVIEW_ALEXNET", raising=False)
    monkeypatch.delenv("CROSSVIEW_FID_INCEPTION", raising=False)
    folder = tmp_path / "torch-home" / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    return folder


def write_alexnet(path):
    """Random weights in torchvision's alexnet-owt file layout: features.* plus a classifier we ignore."""
    torch.manual_seed(0)
    state = AlexNetFeatures().state_dict() | {"classifier.1.weight": torch.randn(4096, 9216)[:8]}
    torch.save(state, path)


def write_inception(path):
    """Random weights in pytorch-fid's layout: no BatchNorm step counters, a 1008-way fc we ignore."""
    torch.manual_seed(0)
    model = FIDInceptionV3()
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):  # plausible statistics, so activations stay finite
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    state = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    torch.save(state | {"fc.weight": torch.zeros(1008, 2048), "fc.bias": torch.zeros(1008)}, path)


def test_missing_weights_say_where_they_were_looked_for(hub):
    lpips, why = load_lpips()
    assert lpips is None and "alexnet-owt-7be5be79.pth" in why and str(hub) in why
    inception, why = load_inception()
    assert inception is None and "pt_inception-2015-12-05-6726825d.pth" in why and "CROSSVIEW_FID_INCEPTION" in why


def test_environment_variable_and_corrupt_files(hub, tmp_path, monkeypatch):
    monkeypatch.setenv("CROSSVIEW_FID_INCEPTION", str(tmp_path / "nowhere.pth"))
    assert "nowhere.pth is not a file" in load_inception()[1]
    broken = tmp_path / "broken.pth"
    broken.write_bytes(b"\x80\x02 not a state dict")
    monkeypatch.setenv("CROSSVIEW_FID_INCEPTION", str(broken))
    with pytest.raises(CheckpointError, match=r"broken\.pth"):
        load_inception()
    write_alexnet(hub / "alexnet-owt-7be5be79.pth")
    short = hub / "alexnet-owt-7be5be79.pth"
    short.write_bytes(short.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="alexnet-owt"):
        load_lpips()


def test_inception_has_pytorch_fid_layout():
    model = FIDInceptionV3()
    # torchvision's inception_v3 has 27,161,264 parameters; without AuxLogits (3,326,696) and fc (2,049,000):
    assert sum(p.numel() for p in model.parameters()) == 21_785_568
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert shapes["Conv2d_1a_3x3.conv.weight"] == (32, 3, 3, 3)
    assert shapes["Mixed_6b.branch7x7_2.conv.weight"] == (128, 128, 1, 7)
    assert shapes["Mixed_7c.branch3x3dbl_3b.conv.weight"] == (384, 384, 3, 1)
    assert shapes["Mixed_7c.branch_pool.conv.weight"] == (192, 2048, 1, 1)
    assert model(torch.rand(2, 3, 64, 256) * 2 - 1).shape == (2, 2048)


def test_lpips_matches_torchmetrics(monkeypatch):
    """Same AlexNet weights in torchmetrics' LPIPS (its backbone normally comes from torchvision, which does
    not import here, so the test hands it ours) and in ours: the distances agree."""
    lin = linear_weights_file()
    if lin is None:
        pytest.skip("torchmetrics ships no LPIPS linear weights in this version")
    from torchmetrics.functional.image import lpips as tm_lpips

    torch.manual_seed(0)
    backbone = AlexNetFeatures()
    monkeypatch.setattr(tm_lpips, "_get_tv_model_features", lambda net, pretrained=False: backbone.features)
    reference = tm_lpips._LPIPS(pretrained=True, net="alex").eval()

    ours = LPIPS()
    ours.net.load_state_dict(backbone.state_dict())
    for i, layer in enumerate(ours.lins):
        layer.weight.data.copy_(reference.lins[i].model[-1].weight)
    x, y = torch.rand(3, 3, 64, 256) * 2 - 1, torch.rand(3, 3, 64, 256) * 2 - 1
    with torch.no_grad():
        expected = reference(x, y).flatten()
        got = ours(x, y)
    assert torch.allclose(got, expected, rtol=1e-4, atol=1e-6)
    assert (got > 0).all() and torch.allclose(ours(x, x), torch.zeros(3)) and torch.allclose(ours(y, x), got)


def test_evaluate_computes_lpips_and_fid_when_weights_are_present(hub, synthcity_dir, tmp_path):
    from crossview.checkpoint import save_model
    from crossview.models.embedder import SAIG
    from crossview.pipeline import CrossViewPipeline

    write_alexnet(hub / "alexnet-owt-7be5be79.pth")
    write_inception(hub / "pt_inception-2015-12-05-6726825d.pth")
    pipe = CrossViewPipeline.untrained("tiny", seed=0).save_pretrained(tmp_path / "pipe")
    torch.manual_seed(1)
    saig_d = save_model(SAIG.from_preset("tiny", "d"), tmp_path / "saig-d")
    out = tmp_path / "metrics.json"
    evaluate_main(["--model", str(pipe), "--data", str(synthcity_dir), "--split", "train", "--evaluator",
                   str(saig_d), "--out", str(out), "--direction", "a2g", "--limit", "4"])
    r = json.loads(out.read_text())["a2g"]
    assert r["lpips"] > 0 and r["fid"] >= 0 and r["unavailable"] == {}
