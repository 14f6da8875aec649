"""Evaluate a model on a dataset split and write the metrics as JSON.

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
import sys
import time
from pathlib import Path

import torch

from crossview.checkpoint import load_model
from crossview.data import open_pairs
from crossview.metrics import embed_pairs, retrieval_metrics
from crossview.models.embedder import SAIG
from crossview.runtime import pick_device

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
    result = retrieval_metrics(aerial, ground)
    result |= {
        "model": str(model_dir), "data": str(data), "split": split, "device": str(dev),
        "seconds": round(time.time() - start, 2),
        "how": "cosine similarity of L2-normalised SAIG embeddings; a query is counted at rank r when r database "
               "entries score strictly higher than its true match; r1_percent uses K = int(0.01 N) + 1. "
               "Top level: ground queries vs the aerial database; aerial_query: the reverse.",
    }
    return result


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m train.evaluate", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--retrieval", action="store_true", help="evaluate a SAIG embedder's retrieval recalls")
    p.add_argument("--model", required=True, help="model folder (config.json + model.safetensors) or hub repo id")
    p.add_argument("--data", required=True, help="dataset folder (pairs layout, CVUSA, CVACT or VIGOR)")
    p.add_argument("--split", default="test", choices=["train", "val", "test"], help="which split to evaluate")
    p.add_argument("--out", required=True, help="where to write the metrics JSON")
    p.add_argument("--batch-size", type=int, default=64, help="images per forward pass")
    p.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    p.add_argument("--limit", type=int, default=None, help="evaluate only the first N pairs of the split")
    p.add_argument("--device", default="auto", help="auto (CUDA if available), cpu or cuda")
    return p


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_grad_enabled(False)
    if not args.retrieval:
        sys.exit("synthesis evaluation (SSIM, PSNR, LPIPS, FID, R@1 of synthesized images) needs the generator, "
                 "which this version does not have yet; use --retrieval for an embedder")
    result = evaluate_retrieval(args.model, args.data, args.split, args.device, args.batch_size, args.workers,
                                args.limit)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    log.info("R@1 %.4f  R@5 %.4f  R@10 %.4f  R@1%% %.4f  (aerial queries: R@1 %.4f) on %d pairs -> %s",
             result["r1"], result["r5"], result["r10"], result["r1_percent"], result["aerial_query"]["r1"],
             result["num_pairs"], out)


if __name__ == "__main__":
    main()
