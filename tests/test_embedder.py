"""SAIG embedder: shapes, losses on hand-made cases, overfitting, save/load, training CLI, DDP."""

import json
import os
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from crossview.augment import rotate_flip_pair
from crossview.checkpoint import CheckpointError, copy_model, load_model, save_model
from crossview.checkpoint import main as checkpoint_cli
from crossview.losses import info_nce, soft_margin_triplet
from crossview.metrics import recall_at_k, retrieval_misses
from crossview.models.embedder import SAIG
from crossview.presets import get_preset


@pytest.fixture
def tiny():
    torch.manual_seed(0)
    return SAIG.from_preset("tiny", "s")


def test_shapes_and_normalisation(tiny):
    a, g = torch.rand(3, 3, 32, 32) * 2 - 1, torch.rand(3, 3, 16, 64) * 2 - 1
    ea, eg = tiny(a, g)
    assert ea.shape == (3, tiny.embed_dim) == eg.shape and tiny.embed_dim == 8 * 32
    assert torch.allclose(ea.norm(dim=1), torch.ones(3), atol=1e-5)
    assert torch.allclose(eg.norm(dim=1), torch.ones(3), atol=1e-5)
    gap = SAIG.from_preset("tiny", "s", head="gap")
    assert gap(a, g)[0].shape == (3, 32)
    assert len(SAIG.from_preset("tiny", "d").aerial.blocks) == 3


def test_paper_preset_parameter_count():
    """Paper: one SAIG-S branch has about 9.1M parameters (backbone; our SMD head adds 0.53M)."""
    model = SAIG.from_preset("paper", "s")
    branch = sum(p.numel() for p in model.ground.parameters())
    head = sum(p.numel() for p in model.ground.head.parameters())
    assert abs((branch - head) - 9.1e6) < 0.05e6
    assert model.ground.tokens == 8 * 32 and model.aerial.tokens == 16 * 16


def test_image_size_per_view_agrees_with_the_preset(tiny):
    preset = get_preset("tiny")
    for view, size in (("aerial", (32, 32)), ("ground", (16, 64))):
        assert preset.image_size(view) == tiny.image_size(view) == size
    for image_size in (preset.image_size, tiny.image_size):
        with pytest.raises(ValueError, match="view must be one of"):
            image_size("street")


def test_branches_are_not_shared(tiny):
    assert tiny.aerial.stem.proj.weight.data_ptr() != tiny.ground.stem.proj.weight.data_ptr()


def test_triplet_loss_hand_made_cases():
    e = F.normalize(torch.eye(4), dim=1)
    matched = soft_margin_triplet(e, e)  # d_pos = 0, d_neg = 2: log(1 + e^-20)
    assert torch.isclose(matched, torch.log1p(torch.exp(torch.tensor(-20.0))), atol=1e-7)
    swapped = soft_margin_triplet(e, e[[1, 0, 3, 2]])  # each positive is as far as possible
    assert swapped > 6.0
    # Identical embeddings for everyone: d_pos = d_neg, loss = log 2.
    same = F.normalize(torch.ones(4, 8), dim=1)
    assert torch.isclose(soft_margin_triplet(same, same), torch.log(torch.tensor(2.0)), atol=1e-6)


def test_infonce_hand_made_cases():
    e = F.normalize(torch.eye(4), dim=1)
    assert info_nce(e, e) < 1e-6
    assert info_nce(e, e[[1, 0, 3, 2]]) > 40


def test_recall_at_k_constructed_case():
    db = F.normalize(torch.eye(5), dim=1)
    query = db[[0, 1, 2, 4, 3]]  # queries 3 and 4 find the other's match first
    r = recall_at_k(query, db)
    assert r["r1"] == pytest.approx(0.6) and r["r5"] == 1.0 and r["r1_percent"] == pytest.approx(0.6)
    misses = retrieval_misses(query, db)  # the two swapped queries, each confused with the other's match
    assert misses["num_misses"] == 2 and misses["median_margin"] == pytest.approx(1.0)
    assert misses["misses"] == [{"query": 3, "rank": 1, "margin": -1.0, "confused_with": 4},
                                {"query": 4, "rank": 1, "margin": -1.0, "confused_with": 3}]
    assert retrieval_misses(query, db, listed=1)["misses"] == misses["misses"][:1]
    assert retrieval_misses(db[:1], db[:1]) == {"median_margin": None, "num_misses": 0, "misses": []}
    noisy = db + 0.6 * torch.eye(5)[[1, 2, 3, 4, 0]]  # second best is the next entry
    r = recall_at_k(F.normalize(noisy, dim=1), db, ks=(1, 2))
    assert r["r1"] == 1.0 and r["r2"] == 1.0


def test_small_batch_overfits(tiny):
    torch.manual_seed(1)
    a, g = torch.rand(8, 3, 32, 32) * 2 - 1, torch.rand(8, 3, 16, 64) * 2 - 1
    opt = torch.optim.AdamW(tiny.parameters(), lr=3e-3)
    tiny.train()
    first = None
    for _ in range(40):
        loss = soft_margin_triplet(*tiny(a, g))
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    tiny.eval()
    with torch.no_grad():
        ea, eg = tiny(a, g)
    assert loss.item() < first / 3
    assert recall_at_k(eg, ea)["r1"] == 1.0


def test_save_load_round_trip_and_errors(tiny, tmp_path):
    save_model(tiny, tmp_path / "m")
    assert {"config.json", "model.safetensors"} <= {p.name for p in (tmp_path / "m").iterdir()}
    loaded = load_model(SAIG, tmp_path / "m")
    x = torch.rand(2, 3, 32, 32)
    tiny.eval()
    with torch.no_grad():
        assert torch.equal(tiny.aerial(x), loaded.aerial(x))
    assert json.loads((tmp_path / "m" / "config.json").read_text())["depth"] == 2
    # Truncated weights, a config that does not match them, a missing folder: clear errors naming the file.
    weights = tmp_path / "m" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match=r"model\.safetensors"):
        load_model(SAIG, tmp_path / "m")
    save_model(tiny, tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    (tmp_path / "m" / "config.json").write_text(json.dumps(config | {"dim": 64, "heads": 2}))
    with pytest.raises(CheckpointError, match="wrong shape"):
        load_model(SAIG, tmp_path / "m")
    with pytest.raises(CheckpointError, match="not found"):
        load_model(SAIG, tmp_path / "nowhere")


def test_copy_model_as_fp16_matches_save_model_fp16(tiny, tmp_path):
    """The shipping step (`python -m crossview.checkpoint SRC DST --fp16`) equals saving the model as fp16."""
    save_model(tiny, tmp_path / "run")
    checkpoint_cli([str(tmp_path / "run"), str(tmp_path / "copy"), "--fp16"])
    save_model(tiny, tmp_path / "saved", fp16=True)
    copied, saved = (load_file(tmp_path / d / "model.safetensors") for d in ("copy", "saved"))
    assert copied.keys() == saved.keys()
    for k, v in copied.items():
        assert torch.equal(v, saved[k])
        assert v.dtype == (torch.float16 if v.is_floating_point() else tiny.state_dict()[k].dtype)
    assert (tmp_path / "copy" / "config.json").read_text() == (tmp_path / "run" / "config.json").read_text()
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():  # loads back as a float32 model that agrees with the original to fp16 precision
        assert torch.allclose(load_model(SAIG, tmp_path / "copy").aerial(x), tiny.eval().aerial(x), atol=1e-2)
    copy_model(tmp_path / "run", tmp_path / "copy")  # a plain copy replaces the folder, float32 again
    assert load_file(tmp_path / "copy" / "model.safetensors")["aerial.pos_embed"].dtype == torch.float32
    with pytest.raises(SystemExit, match=r"missing config\.json"):
        checkpoint_cli([str(tmp_path), str(tmp_path / "other")])
    assert not (tmp_path / "other").exists()


def test_rotate_flip_keeps_the_views_consistent(synthcity_dir):
    """Rotating/mirroring both label maps together keeps the ground->aerial projection agreeing."""
    import numpy as np
    from PIL import Image

    from tests.test_synthcity import GROUND_PLANE, project_ground_to_aerial

    meta = json.loads((synthcity_dir / "meta.json").read_text())
    rates = {}
    for k, flip in [(0, False), (1, False), (3, True), (2, True)]:
        agree = total = 0
        for name in sorted(p.name for p in (synthcity_dir / "aerial").glob("*.png"))[:4]:
            a = torch.from_numpy(np.array(Image.open(synthcity_dir / "labels" / "aerial" / name)))[None]
            g = torch.from_numpy(np.array(Image.open(synthcity_dir / "labels" / "ground" / name)))[None]
            a, g = (t[0].numpy() for t in rotate_flip_pair(a, g, k, flip))
            rows, cols = np.nonzero(np.isin(g, GROUND_PLANE))
            r, c = project_ground_to_aerial(meta, rows, cols)
            inside = (r >= 0) & (r < 128) & (c >= 0) & (c < 128)
            gc, ac = g[rows[inside], cols[inside]], a[r[inside].astype(int), c[inside].astype(int)]
            visible = np.isin(ac, GROUND_PLANE)
            agree += int((gc[visible] == ac[visible]).sum())
            total += int(visible.sum())
        rates[(k, flip)] = agree / total
    assert min(rates.values()) > 0.95, rates


def _run(args, **kw):
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=300, **kw)


def test_training_cli_runs_resumes_and_evaluates(synthcity_dir, tmp_path):
    out = tmp_path / "run"
    common = ["-m", "train.embedder", "--data", str(synthcity_dir), "--out", str(out), "--preset", "tiny",
              "--batch-size", "3", "--workers", "0", "--eval-every", "2", "--checkpoint-every", "1",
              "--warmup-steps", "1"]
    r = _run([*common, "--epochs", "2"])
    assert r.returncode == 0, r.stderr[-2000:]
    assert (out / "model" / "model.safetensors").is_file() and (out / "curves.png").is_file()
    records = [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]
    assert any("val_r1" in rec for rec in records)
    r = _run([*common, "--epochs", "3", "--resume"])
    assert r.returncode == 0, r.stderr[-2000:]
    assert "resumed from" in r.stderr and "step 4" in r.stderr
    report = tmp_path / "eval.json"
    r = _run(["-m", "train.evaluate", "--retrieval", "--model", str(out / "model"), "--data", str(synthcity_dir),
              "--split", "train", "--out", str(report)])
    assert r.returncode == 0, r.stderr[-2000:]
    result = json.loads(report.read_text())
    for key in ("r1", "r5", "r10", "r1_percent"):
        assert 0 <= result[key] <= 1 and 0 <= result["aerial_query"][key] <= 1
    assert result["num_pairs"] == 6
    for side in (result, result["aerial_query"]):  # the misses agree with R@1
        assert side["num_misses"] == round(6 * (1 - side["r1"])) and len(side["misses"]) == side["num_misses"]


def test_ddp_two_cpu_processes(synthcity_dir, tmp_path):
    out = tmp_path / "ddp"
    r = _run(["-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29517", "-m",
              "train.embedder", "--data", str(synthcity_dir), "--out", str(out), "--preset", "tiny",
              "--batch-size", "2", "--workers", "0", "--epochs", "2", "--eval-every", "100",
              "--device", "cpu", "--hard-negatives", "1"])
    assert r.returncode == 0, r.stderr[-3000:]
    config = json.loads((out / "config.json").read_text())
    assert config["world_size"] == 2 and config["steps"] == 2  # 6 pairs / (2 x 2) = 1 step per epoch
    assert (out / "hard_negatives" / "epoch-0001.json").is_file()  # mined by rank 0, read by both
    assert (out / "model" / "model.safetensors").is_file()


def test_init_starts_from_a_model_folder(synthcity_dir, tmp_path, tiny):
    from train.embedder import EmbedderTrainConfig, train

    save_model(tiny, tmp_path / "start")
    common = dict(data=str(synthcity_dir), preset="tiny", batch_size=3, workers=0, warmup_steps=1, eval_every=100)
    train(EmbedderTrainConfig(out=str(tmp_path / "zero"), epochs=0, init=str(tmp_path / "start"), **common))
    start = load_file(tmp_path / "start" / "model.safetensors")
    zero = load_file(tmp_path / "zero" / "model" / "model.safetensors")
    assert start.keys() == zero.keys()
    for k, v in zero.items():
        assert torch.equal(v, start[k]), k  # no step taken: the weights are the init's
    train(EmbedderTrainConfig(out=str(tmp_path / "one"), epochs=1, init=str(tmp_path / "start"), **common))
    moved = load_file(tmp_path / "one" / "model" / "model.safetensors")
    assert any(not torch.equal(v, start[k]) for k, v in moved.items())
    with pytest.raises(CheckpointError, match="start"):  # 22 blocks do not fit in 11
        train(EmbedderTrainConfig(out=str(tmp_path / "bad"), variant="d", epochs=1, init=str(tmp_path / "start"),
                                  **common))


def test_grouped_epoch_order_keeps_look_alikes_together():
    from crossview.runtime import grouped_epoch_order

    mutual = torch.tensor([[i ^ 1] for i in range(12)])  # 0<->1, 2<->3, ...: each pair's only neighbour
    order = grouped_epoch_order(mutual, epoch=0, seed=0, batch=4)
    assert sorted(order) == list(range(12))
    for start in range(0, 12, 2):  # every group is adjacent and, with even batches, inside one batch
        assert order[start] ^ 1 == order[start + 1]
    assert order == grouped_epoch_order(mutual, epoch=0, seed=0, batch=4)  # seeded
    assert order != grouped_epoch_order(mutual, epoch=1, seed=0, batch=4)
    ranks = [grouped_epoch_order(mutual, epoch=0, seed=0, batch=2, rank=r, world=2) for r in range(2)]
    assert sorted(ranks[0] + ranks[1]) == list(range(12))  # the ranks share the epoch without overlap
    for share in ranks:
        for start in range(0, len(share), 2):
            assert share[start] ^ 1 == share[start + 1]  # a group stays on one rank
    assert len(grouped_epoch_order(mutual, epoch=0, seed=0, batch=5)) == 10  # whole batches only
    # overlapping neighbour lists: each index still appears once
    crowded = torch.tensor([[1, 2], [0, 2], [0, 1], [0, 1], [3, 0]])
    assert sorted(grouped_epoch_order(crowded, epoch=3, seed=1, batch=1)) == list(range(5))


def test_mine_neighbours_matches_brute_force(synthcity_dir, tiny):
    from crossview.data import open_pairs
    from crossview.metrics import embed_pairs
    from crossview.presets import get_preset
    from train.embedder import mine_neighbours

    preset = get_preset("tiny")
    pairs = open_pairs(synthcity_dir, "train", preset.aerial_size, preset.ground_size)
    neighbours = mine_neighbours(tiny, pairs, 2, torch.device("cpu"), workers=0)
    a, g = embed_pairs(tiny, pairs)
    sim = g @ a.T + a @ g.T
    sim.fill_diagonal_(-float("inf"))
    assert neighbours.shape == (6, 2)
    assert torch.equal(neighbours, sim.topk(2, dim=1).indices)
    assert all(i not in row for i, row in enumerate(neighbours.tolist()))


def test_hard_negative_training_mines_each_epoch_and_resumes(synthcity_dir, tmp_path, tiny):
    from train.embedder import EmbedderTrainConfig, train

    save_model(tiny, tmp_path / "start")
    out = tmp_path / "hard"
    common = dict(data=str(synthcity_dir), out=str(out), preset="tiny", batch_size=2, workers=0, warmup_steps=1,
                  eval_every=100, checkpoint_every=1, hard_negatives=1)
    common["init"] = str(tmp_path / "start")
    train(EmbedderTrainConfig(epochs=0.67, **common))  # 2 of the epoch's 3 steps
    first = out / "hard_negatives" / "epoch-0000.json"
    table = json.loads(first.read_text())  # mined from the --init weights before the first step
    assert table["k"] == 1 and len(table["neighbours"]) == 6
    with pytest.raises(ValueError, match="k=1"):  # a table mined for another k is not silently reused
        train(EmbedderTrainConfig(epochs=2, resume=True, **{**common, "hard_negatives": 2}))
    before = first.stat().st_mtime_ns
    train(EmbedderTrainConfig(epochs=2, resume=True, **common))  # resumes inside epoch 0
    assert first.stat().st_mtime_ns == before  # the epoch's table is reused, not mined again
    assert (out / "hard_negatives" / "epoch-0001.json").is_file()
    scratch = tmp_path / "scratch"  # from scratch, the first epoch's batches stay random
    train(EmbedderTrainConfig(epochs=2, **{**common, "init": "", "out": str(scratch)}))
    assert [p.name for p in (scratch / "hard_negatives").iterdir()] == ["epoch-0001.json"]
    sparse = tmp_path / "sparse"  # --mine-every 2: epoch 1 reuses epoch 0's table
    train(EmbedderTrainConfig(epochs=3, mine_every=2, **{**common, "out": str(sparse)}))
    assert sorted(p.name for p in (sparse / "hard_negatives").iterdir()) == ["epoch-0000.json", "epoch-0002.json"]
    with pytest.raises(ValueError, match="hard-negatives"):  # 6 training pairs have only 5 others each
        train(EmbedderTrainConfig(epochs=1, **{**common, "hard_negatives": 6, "out": str(tmp_path / "too_many")}))
