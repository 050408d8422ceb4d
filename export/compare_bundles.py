"""Compare the figures of two builds of a bundle (two `export/build_all.sh` runs with the same seeds):
each accuracy the model cards measured, side by side, and the largest difference in points.

    python export/compare_bundles.py BUNDLE_A BUNDLE_B [--tolerance 0.05]

Exit status 1 when a figure differs by more than the tolerance (points), 0 otherwise.
"""
from __future__ import annotations

import argparse
import json
import os
import sys


def figures(bundle: str) -> dict:
    with open(os.path.join(bundle, "manifest.json"), encoding="utf-8") as handle:
        metrics = json.load(handle).get("metrics", {})
    out = {}
    for split, systems in (metrics.get("test") or {}).items():
        for system, got in systems.items():
            out[f"{split} {system}"] = 100 * got["accuracy"]
    for split, got in (metrics.get("dev") or {}).items():
        if isinstance(got, dict) and "accuracy" in got:
            out[f"dev {split}"] = 100 * got["accuracy"]
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--tolerance", type=float, default=0.05, help="points")
    args = parser.parse_args(argv)
    a, b = figures(args.a), figures(args.b)
    shared = sorted(a.keys() & b.keys())
    if not shared:
        print("no figure in common: are both bundles carded (pinyin-edge card)?", file=sys.stderr)
        return 2
    worst = 0.0
    print("| figure | A | B | B - A (points) |\n|---|---|---|---|")
    for key in shared:
        diff = b[key] - a[key]
        worst = max(worst, abs(diff))
        print(f"| {key} | {a[key]:.2f} | {b[key]:.2f} | {diff:+.2f} |")
    print(f"largest difference: {worst:.2f} points (tolerance {args.tolerance})")
    return 1 if worst > args.tolerance else 0


if __name__ == "__main__":
    sys.exit(main())
