"""Figures from training runs' logs (``log.jsonl``), as RESULTS.md quotes them: steps, speed, loss levels.

    python -m train.logstats runs/eqmin-ours-90min-g2a runs/eqmin-no-diffaug-90min-g2a --keys l1 d_loss

prints a markdown table with one row per run: the last logged step, the median seconds per step over the log
lines (each line's ``sec_per_step``), and each key's mean over the first ``--first`` and the last ``--last``
log lines (with ``--log-every 10``, ten lines are 100 steps). ``--until M`` reads each log only up to M minutes
of training and ``--since M`` only after M, e.g. to split a run that was resumed with a larger budget. A key
that a run does not log (Pix2Pix has no ``identity``) reads n/a.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from crossview.runtime import read_run_logs


def summarize(records: list[dict], keys: list[str], first: int, last: int) -> dict:
    """The last step, the median s/step and, per key, its mean over the first and the last log lines."""
    speeds = [r["sec_per_step"] for r in records if "sec_per_step" in r]
    out = {"steps": records[-1]["step"], "sec_per_step": statistics.median(speeds) if speeds else None}
    for k in keys:
        for name, rows in ((f"{k} first {first}", records[:first]), (f"{k} last {last}", records[-last:])):
            out[name] = statistics.fmean(r[k] for r in rows) if all(k in r for r in rows) else None
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
    p.add_argument("--first", type=int, default=10, help="average over the first N log lines")
    p.add_argument("--last", type=int, default=10, help="average over the last N log lines")
    p.add_argument("--until", type=float, help="read each log only up to this many minutes of training")
    p.add_argument("--since", type=float, help="read each log only after this many minutes of training")
    args = p.parse_args(argv)
    if args.first < 1 or args.last < 1:
        p.error("--first and --last must be at least 1")
    try:
        logs = read_run_logs({run: Path(run) for run in args.runs})
    except ValueError as e:
        p.error(str(e))
    since = -1.0 if args.since is None else args.since
    until = float("inf") if args.until is None else args.until
    logs = {run: [r for r in records if since < r["minutes"] <= until] for run, records in logs.items()}
    if empty := [run for run, records in logs.items() if not records]:
        p.error(f"no log line in the minutes asked for in {', '.join(empty)}")
    print(markdown({run: summarize(records, args.keys, args.first, args.last) for run, records in logs.items()}))


if __name__ == "__main__":
    main()
