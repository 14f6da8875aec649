"""Evaluate a model on a dataset split and write the metrics as JSON.

Synthesis (a CrossView pipeline folder, or a Pix2Pix generator with --baseline pix2pix):

    python -m train.evaluate --model assets/checkpoints/demo --data data/synthcity-test --split test \
        --out runs/eval/demo.json [--direction a2g] [--save-images runs/eval/demo-images]
    python -m train.evaluate --markdown runs/eval/demo.json runs/eval/pix2pix-*.json   # paper table 2 layout

Two reference checks: ``--baseline real`` scores the real target images themselves (no --model), what a
perfect synthesis would get: R@1 then measures the evaluator alone. ``--blur TAPS`` low-pass filters the
images before they are scored (``crossview.losses.binomial_blur``, as ``train.generator --feature-blur``), to
see how much a metric rests on fine detail.

writes per direction (keys a2g, g2a) ssim, psnr, lpips, fid, fid_saig and r1, and under "how" how each
was computed. R@1 asks the separately trained SAIG-D (--evaluator, default assets/checkpoints/saig-d) to
find each synthesized image's real source view among all source views of the split. LPIPS (AlexNet) and
FID (Inception) are computed when their standard weights are on this machine (CROSSVIEW_ALEXNET /
CROSSVIEW_FID_INCEPTION, or the torch hub cache: crossview/models/pretrained.py); otherwise they are null
and "unavailable" says why.

Retrieval (a SAIG embedder):

    python -m train.evaluate --retrieval --model assets/checkpoints/saig-s --data data/synthcity-test \\
        --split test --out runs/eval/saig-s.json

writes Recall@1, @5, @10 and @top-1% as fractions under r1, r5, r10, r1_percent for ground queries against
the aerial database (the standard geo-localization direction), and the same keys under aerial_query for
the reverse.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from tqdm import tqdm

from crossview.checkpoint import load_model
from crossview.data import open_pairs
from crossview.data.pairs import tensor_to_image
from crossview.losses import binomial_blur, check_blur_taps
from crossview.metrics import (
    SSIM_SETTINGS,
    embed_pairs,
    feature_frechet_distance,
    recall_at_k,
    retrieval_metrics,
    ssim_psnr,
)
from crossview.metrics import (
    psnr as psnr_db,
)
from crossview.models.embedder import SAIG
from crossview.models.inception import FIDInceptionV3, load_inception
from crossview.models.lpips import LPIPS, load_lpips
from crossview.models.pix2pix import Pix2PixGenerator
from crossview.pipeline import CrossViewPipeline
from crossview.runtime import pick_device
from crossview.trainer import DIRECTIONS
from crossview.visualize import make_grid

log = logging.getLogger("train.evaluate")


def evaluate_retrieval(model_dir: str, data: str, split: str, device: str = "auto", batch_size: int = 64,
                       workers: int = 0, limit: int | None = None) -> dict:
    dev = pick_device(device)
    model = load_model(SAIG, model_dir, dev)
    dataset = open_pairs(data, split, model.aerial_size, model.ground_size)
    if limit:
        dataset.pairs = dataset.pairs[:limit]
    start = time.time()
    aerial, ground = embed_pairs(model, dataset, batch_size, dev, workers, progress=True)
    result = retrieval_metrics(aerial, ground, misses=True)
    result |= {
        "model": str(model_dir), "data": str(data), "split": split, "device": str(dev),
        "seconds": round(time.time() - start, 2),
        "how": "cosine similarity of L2-normalised SAIG embeddings; a query is counted at rank r when r database "
               "entries score strictly higher than its true match; r1_percent uses K = int(0.01 N) + 1. "
               "Top level: ground queries vs the aerial database; aerial_query: the reverse. margin: the true "
               "match's cosine minus the best other entry's (negative for a miss); misses: worst first, at most 20.",
    }
    return result


DEFAULT_EVALUATOR = "assets/checkpoints/saig-d"
METRICS = ("ssim", "psnr", "lpips", "fid", "fid_saig", "r1")
HOW = {
    "ssim": f"torchmetrics SSIM per image on 8-bit RGB at the model's output size, averaged over images "
            f"({SSIM_SETTINGS})",
    "psnr": "torchmetrics PSNR (data range 255) per image on 8-bit RGB, averaged over images",
    "lpips": "LPIPS v0.1 with the AlexNet backbone (crossview/models/lpips.py, the weights of torchvision and "
             "torchmetrics) per image pair on the 8-bit images at the model's output size, averaged over images",
    "fid": "Frechet distance between Gaussians fitted to the 2048-d pool3 features of pytorch-fid's InceptionV3 "
           "(crossview/models/inception.py; images resized to 299 x 299) of the synthesized and real target images",
    "fid_saig": "Frechet distance between Gaussians fitted to SAIG-D target-branch features (final tokens, "
                "mean-pooled) of the synthesized and the real target images",
    "r1": "Recall@1 of SAIG-D: each synthesized target-view image, embedded by the target branch, queries the "
          "split's real source-view images embedded by the source branch",
}


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    return ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def from_uint8(x: torch.Tensor) -> torch.Tensor:
    return x.float() / 127.5 - 1


def load_synthesizers(model: str | None, baseline: str | None, device: torch.device, evaluator: SAIG):
    """{direction: fn(source batch, seeds, target batch) -> images in [-1, 1]}, the method's name, and the image
    sizes. Only the ``real`` reference reads the target."""
    sizes = {"aerial": evaluator.aerial_size, "ground": evaluator.ground_size}
    if baseline == "real":
        return {d: lambda src, seeds, target: target for d in DIRECTIONS}, "real", sizes
    if baseline == "pix2pix":
        g = load_model(Pix2PixGenerator, model, device)
        direction = "a2g" if g.target_size[1] > g.target_size[0] else "g2a"
        sizes[DIRECTIONS[direction][1]] = g.target_size
        return {direction: lambda src, seeds, target: g(src)}, "pix2pix", sizes
    pipe = CrossViewPipeline.from_pretrained(model, device)
    sizes = {"aerial": pipe.embedder.aerial_size, "ground": pipe.embedder.ground_size}
    return ({d: (lambda src, seeds, target, d=d: pipe.generate(src, d, seeds).image) for d in pipe.directions},
            "crossview", sizes)


@dataclass
class PretrainedMetrics:
    """LPIPS and FID networks when their weights are on this machine, else the reason they are not."""

    lpips: LPIPS | None
    inception: FIDInceptionV3 | None
    unavailable: dict[str, str]

    @classmethod
    def load(cls, device: torch.device) -> PretrainedMetrics:
        lpips, why_lpips = load_lpips(device)
        inception, why_fid = load_inception(device)
        unavailable = {k: v for k, v in (("lpips", why_lpips), ("fid", why_fid)) if v}
        for metric, why in unavailable.items():
            log.info("%s unavailable: %s", metric, why)
        return cls(lpips, inception, unavailable)


def frechet(fake_batches: list[torch.Tensor], real_batches: list[torch.Tensor]) -> float | None:
    """Frechet distance of two batched feature sets; None without features or with a single image."""
    if sum(len(b) for b in fake_batches) < 2:
        return None
    return feature_frechet_distance(torch.cat(fake_batches), torch.cat(real_batches))


@torch.no_grad()
def evaluate_direction(synth, direction: str, dataset, evaluator: SAIG, device: torch.device, batch_size: int,
                       seed: int, save_images: Path | None, pretrained: PretrainedMetrics | None = None,
                       noise_psnr: bool = False) -> dict:
    """The metrics of one direction; with ``noise_psnr`` also the mean PSNR between each scored image and a second
    sample of its source drawn with another noise seed (seed + len(dataset) + i): how little the style noise
    changes the output (infinite, reported as None, for a method without noise such as Pix2Pix)."""
    pretrained = pretrained or PretrainedMetrics.load(device)
    source_view, target_view = DIRECTIONS[direction]
    eval_size = {"aerial": evaluator.aerial_size, "ground": evaluator.ground_size}

    def for_evaluator(x: torch.Tensor, view: str) -> torch.Tensor:
        """Images at the evaluator's input size for that view."""
        size = tuple(eval_size[view])
        return x if tuple(x.shape[-2:]) == size else F.interpolate(x, size=size, mode="bilinear",
                                                                   align_corners=False)
    ssim, psnr, fake_feats, real_feats, queries, database, between_samples = [], [], [], [], [], [], []
    lpips, fake_incep, real_incep = [], [], []
    grid_rows = []
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False)
    for batch_index, (aerial, ground) in enumerate(tqdm(loader, desc=f"evaluating {direction}", unit="batch")):
        views = {"aerial": aerial.to(device), "ground": ground.to(device)}
        source, target = views[source_view], views[target_view]
        start = batch_index * batch_size
        fake_u8 = to_uint8(synth(source, [seed + start + i for i in range(source.shape[0])], target))
        real_u8 = to_uint8(target)
        s, p = ssim_psnr(fake_u8.cpu(), real_u8.cpu())
        ssim.append(s)
        psnr.append(p)
        if noise_psnr:
            other_seeds = [seed + len(dataset) + start + i for i in range(source.shape[0])]
            between_samples.append(psnr_db(to_uint8(synth(source, other_seeds, target)).cpu(), fake_u8.cpu()))
        fake_8bit, real_8bit = from_uint8(fake_u8), from_uint8(real_u8)  # what a saved image holds, in [-1, 1]

        if pretrained.lpips is not None:
            lpips.append(pretrained.lpips(fake_8bit, real_8bit).cpu())
        if pretrained.inception is not None:
            fake_incep.append(pretrained.inception(fake_8bit).cpu())
            real_incep.append(pretrained.inception(real_8bit).cpu())

        fake, real = for_evaluator(fake_8bit, target_view), for_evaluator(target, target_view)
        branch = evaluator.branch(target_view)
        fake_feats.append(branch.pooled_features(fake).cpu())
        real_feats.append(branch.pooled_features(real).cpu())
        queries.append(branch(fake).cpu())
        database.append(evaluator.embed(for_evaluator(source, source_view), source_view).cpu())
        if save_images is not None:
            folder = save_images / direction
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(source.shape[0]):
                name = Path(dataset.pairs[start + i][0 if target_view == "aerial" else 1]).stem + ".png"
                image = tensor_to_image(fake_8bit[i])
                image.save(folder / name)
                if len(grid_rows) < 8:
                    grid_rows.append([tensor_to_image(source[i]), image, tensor_to_image(target[i])])
    if save_images is not None and grid_rows:
        make_grid(grid_rows).save(save_images / f"{direction}-grid.png")
    psnr_mean, unavailable = float(torch.cat(psnr).mean()), dict(pretrained.unavailable)
    if psnr_mean == float("inf"):  # the real images themselves (--baseline real); JSON has no infinity
        psnr_mean, unavailable["psnr"] = None, "infinite: some synthesized images equal their real ones exactly"
    extra = {}
    if noise_psnr:
        extra["noise_psnr"] = float(torch.cat(between_samples).mean())
        if extra["noise_psnr"] == float("inf"):
            extra["noise_psnr"], unavailable["noise_psnr"] = None, "infinite: the noise does not change some images"
    return {
        "ssim": float(torch.cat(ssim).mean()), "psnr": psnr_mean,
        "lpips": float(torch.cat(lpips).mean()) if lpips else None,
        "fid": frechet(fake_incep, real_incep),
        "fid_saig": frechet(fake_feats, real_feats),
        "r1": recall_at_k(torch.cat(queries), torch.cat(database), ks=(1,))["r1"],
        "num_pairs": len(dataset), "unavailable": unavailable, **extra,
    }


def evaluate_synthesis(model: str | None, data: str, split: str, direction: str | None = None,
                       evaluator: str = DEFAULT_EVALUATOR, baseline: str | None = None,
                       save_images: str | None = None, limit: int | None = None, batch_size: int = 16,
                       seed: int = 0, device: str = "auto", blur: int = 0, noise_psnr: bool = False) -> dict:
    check_blur_taps(blur, "blur")
    dev = pick_device(device)
    saig_d = load_model(SAIG, evaluator, dev)
    synthesizers, method, sizes = load_synthesizers(model, baseline, dev, saig_d)
    if blur:  # a low-pass on what is scored, as a check of how much each metric rests on fine detail
        synthesizers = {d: (lambda src, seeds, target, fn=fn: binomial_blur(fn(src, seeds, target), blur))
                        for d, fn in synthesizers.items()}
    if direction:
        if direction not in synthesizers:
            raise SystemExit(f"{model} has no {direction} model; it has {sorted(synthesizers)}")
        synthesizers = {direction: synthesizers[direction]}
    dataset = open_pairs(data, split, sizes["aerial"], sizes["ground"])
    if limit:
        dataset.pairs = dataset.pairs[:limit]
    pretrained = PretrainedMetrics.load(dev)
    result = {"method": method, "model": str(model or ""), "data": str(data), "split": split,
              "evaluator": evaluator, "seed": seed, "device": str(dev), "blur": blur, "how": HOW}
    for d, synth in synthesizers.items():
        start = time.time()
        result[d] = evaluate_direction(synth, d, dataset, saig_d, dev, batch_size, seed,
                                       Path(save_images) if save_images else None, pretrained, noise_psnr)
        result[d]["seconds"] = round(time.time() - start, 1)
    return result


def mean_result(name: str, results: list[dict]) -> dict:
    """The metrics averaged over results (e.g. of training seeds), direction by direction: only directions
    that every result has, and n/a where any result has n/a."""
    mean = {"name": name}
    for d in ("a2g", "g2a"):
        if all(d in r for r in results):
            values = {m: [r[d].get(m) for r in results] for m in METRICS}
            mean[d] = {m: None if None in v else sum(v) / len(v) for m, v in values.items()}
    return mean


def read_result(path: str) -> dict:
    """One result file, as evaluate_synthesis wrote it."""
    return json.loads(Path(path).read_text())


def read_table_item(item: str) -> dict:
    """A result file, or NAME=FILE,FILE,... for their mean under NAME (only the part before the first = is a
    name: the files after it are read as paths). An existing file is a file, whatever its path holds."""
    if "=" not in item or Path(item).is_file():
        return read_result(item)
    name, files = item.split("=", 1)
    return mean_result(name, [read_result(f) for f in files.split(",")])


def markdown_table(items: list[str]) -> str:
    """Results side by side, in the layout of paper table 2: direction x method x metric. An item is a result
    file, or NAME=FILE,FILE,... for a row of their means."""
    arrows = {"ssim": "↑", "psnr": "↑", "lpips": "↓", "fid": "↓", "fid_saig": "↓", "r1": "↑"}
    lines = ["| direction | method | " + " | ".join(f"{m.upper()} {arrows[m]}" for m in METRICS) + " |",
             "|---|---|" + "---|" * len(METRICS)]
    results = [read_table_item(item) for item in items]
    for d in ("a2g", "g2a"):
        for r in results:
            if d in r:
                cells = []
                for m in METRICS:
                    v = r[d].get(m)
                    cells.append("n/a" if v is None else f"{100 * v:.2f}" if m == "r1" else f"{v:.4f}")
                lines.append(f"| {d} | {r.get('name') or r['method']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def blur_taps(text: str) -> int:
    """--blur's type: the check evaluate_synthesis makes, as a usage error before anything loads."""
    taps = int(text)
    try:
        check_blur_taps(taps, "--blur")
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from e
    return taps


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m train.evaluate", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--retrieval", action="store_true", help="evaluate a SAIG embedder's retrieval recalls")
    p.add_argument("--model", help="pipeline folder, Pix2Pix generator folder, or SAIG folder (--retrieval); "
                                   "or a Hugging Face repo id")
    p.add_argument("--data", help="dataset folder (pairs layout, CVUSA, CVACT or VIGOR)")
    p.add_argument("--split", default="test", choices=["train", "val", "test"], help="which split to evaluate")
    p.add_argument("--out", help="where to write the metrics JSON")
    p.add_argument("--direction", choices=["a2g", "g2a"], help="evaluate only this direction")
    p.add_argument("--evaluator", default=DEFAULT_EVALUATOR, help="the SAIG-D folder used for R@1 and fid_saig")
    p.add_argument("--baseline", choices=["pix2pix", "real"],
                   help="pix2pix: --model is a Pix2Pix generator folder; real: score the real target images "
                        "themselves (no --model), a perfect synthesis")
    p.add_argument("--blur", type=blur_taps, default=0,
                   help="binomial low-pass of this many taps (odd, >= 3; 0: none) on the images before scoring")
    p.add_argument("--name", help="method name shown by --markdown (default: crossview or pix2pix)")
    p.add_argument("--save-images", help="keep the synthesized images in DIR/a2g/, DIR/g2a/ plus a grid PNG")
    p.add_argument("--seed", type=int, default=0, help="noise seed; pair i uses seed + i")
    p.add_argument("--noise-psnr", action="store_true",
                   help="also draw every image with a second noise seed and report the mean PSNR between the two "
                        "samples (noise_psnr; higher: the noise changes less)")
    p.add_argument("--markdown", nargs="+", metavar="JSON",
                   help="print a paper-table-2 style table from result files and exit; NAME=JSON,JSON,... "
                        "adds a row of their means (e.g. over training seeds)")
    p.add_argument("--batch-size", type=int, default=32, help="images per forward pass")
    p.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    p.add_argument("--limit", type=int, default=None, help="evaluate only the first N pairs of the split")
    p.add_argument("--device", default="auto", help="auto (CUDA if available), cpu or cuda")
    return p


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.markdown:
        print(markdown_table(args.markdown))
        return
    if not ((args.model or args.baseline == "real") and args.data and args.out):
        parser.error("--model (except with --baseline real), --data and --out are required (except with --markdown)")
    if args.baseline == "real" and args.model:
        parser.error("--baseline real scores the real images: it takes no --model")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.retrieval:
        result = evaluate_retrieval(args.model, args.data, args.split, args.device, args.batch_size, args.workers,
                                    args.limit)
        log.info("R@1 %.4f  R@5 %.4f  R@10 %.4f  R@1%% %.4f  (aerial queries: R@1 %.4f) on %d pairs -> %s",
                 result["r1"], result["r5"], result["r10"], result["r1_percent"], result["aerial_query"]["r1"],
                 result["num_pairs"], out)
        log.info("misses %d (aerial queries: %d), median margin %s (%s); the misses are listed in the file",
                 result["num_misses"], result["aerial_query"]["num_misses"], result["median_margin"],
                 result["aerial_query"]["median_margin"])
    else:
        result = evaluate_synthesis(args.model, args.data, args.split, args.direction, args.evaluator,
                                    args.baseline, args.save_images, args.limit, args.batch_size, args.seed,
                                    args.device, args.blur, args.noise_psnr)
        if args.name:
            result["name"] = args.name
        for d in ("a2g", "g2a"):
            if d in result:
                log.info("%s: %s", d, {m: result[d][m] for m in (*METRICS, "noise_psnr") if m in result[d]})
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
