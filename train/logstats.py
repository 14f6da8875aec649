"""Figures from training runs' logs (``log.jsonl``), as RESULTS.md quotes them: steps, speed, loss levels.

    python -m train.logstats runs/eqmin-ours-90min-g2a runs/eqmin-no-diffaug-90min-g2a --keys l1 d_loss --last 100

prints a markdown table with one row per run: the last logged step, the median seconds per step over the log
lines (each line's ``sec_per_step``), and for each key the mean over the log lines of the first ``--first`` and
the last ``--last`` steps (a log line at step s covers the steps since the one before it). A key a run does not
log (Pix2Pix has no ``identity``) reads n/a.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from train.figures import read_run_logs


def summarize(records: list[dict], keys: list[str], first: int, last: int) -> dict:
    """The last step, the median s/step and, per key, its mean over the first and the last steps' log lines."""
    final = records[-1]["step"]
    head = [r for r in records if r["step"] <= first]
    tail = [r for r in records if r["step"] > final - last]
    speeds = [r["sec_per_step"] for r in records if "sec_per_step" in r]
    out = {"steps": final, "sec_per_step": statistics.median(speeds) if speeds else None}
    for k in keys:
        for name, rows in ((f"{k} first {first}", head), (f"{k} last {last}", tail)):
            values = [r[k] for r in rows if k in r]
            out[name] = statistics.fmean(values) if values and len(values) == len(rows) else None
    return out


def markdown(summaries: dict[str, dict]) -> str:
    columns = list(next(iter(summaries.values())))
    lines = ["| run | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for run, s in summaries.items():
        cells = ["n/a" if s[c] is None else f"{s[c]:,}" if c == "steps" else f"{s[c]:.3f}" for c in columns]
        lines.append(f"| {run} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m train.logstats", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help="run folders (train.generator or train.pix2pix --out)")
    p.add_argument("--keys", nargs="+", default=["l1", "d_loss"], help="logged values to average")
    p.add_argument("--first", type=int, default=100, help="average over the log lines of the first N steps")
    p.add_argument("--last", type=int, default=100, help="average over the log lines of the last N steps")
    args = p.parse_args(argv)
    if args.first < 1 or args.last < 1:
        p.error("--first and --last must be at least 1")
    logs = read_run_logs({run: Path(run) for run in args.runs})
    print(markdown({run: summarize(records, args.keys, args.first, args.last) for run, records in logs.items()}))


if __name__ == "__main__":
    main()
