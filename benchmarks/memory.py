"""Peak memory (RSS) of long inputs: one long stdin line through ``pinyin-edge convert``, and
``G2P.pinyin`` / ``G2P.annotate`` of long strings. Each probe runs in a fresh process; its peak RSS is
``getrusage(...).ru_maxrss`` of that process.

    python benchmarks/memory.py [--model default] [--out benchmarks/results/memory.json] [--quick]

The text: tests/regression/texts.txt joined by spaces and repeated to the size wanted (mostly Han
characters, with punctuation, Latin, digits and some rarer scripts).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEXTS = os.path.join(ROOT, "tests", "regression", "texts.txt")
LIMIT_MB = 250


def long_text(chars: int) -> str:
    with open(TEXTS, encoding="utf-8") as handle:
        base = " ".join(line for line in handle.read().split("\n") if line)
    return (base * (chars // len(base) + 1))[:chars]


_API = """
import resource, sys
from pinyin_edge import G2P
text = open(sys.argv[1], encoding="utf-8").read()
g2p = G2P(model=sys.argv[3])
out = getattr(g2p, sys.argv[2])(text)
assert len(out) == len(text)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""

_CLI = """
import resource, subprocess, sys
with open(sys.argv[1], "rb") as stdin:
    done = subprocess.run([sys.executable, "-m", "pinyin_edge.cli", "convert", "--model", sys.argv[2]],
                          stdin=stdin, stdout=subprocess.DEVNULL)
assert done.returncode == 0
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
"""


def _run(code: str, *args: str) -> float:
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed")
    return float(done.stdout.strip().splitlines()[-1])


def measure(model: str, quick: bool) -> list:
    probes = [("convert stdin, one line", "cli", 10_000_000 if not quick else 1_000_000),
              ("G2P.pinyin", "pinyin", 10_000_000 if not quick else 1_000_000),
              ("G2P.annotate", "annotate", 1_000_000 if not quick else 100_000)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, kind, size in probes:
            path = os.path.join(tmp, f"{kind}.txt")
            if kind == "cli":
                # size in bytes of UTF-8: Han characters take 3
                text = long_text(size)
                data = text.encode("utf-8")[:size].decode("utf-8", "ignore")
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(data + "\n")
                began = time.time()
                peak = _run(_CLI, path, model)
                what = f"{len(data.encode('utf-8')) / 1e6:.1f} MB line ({len(data):,} characters)"
            else:
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(long_text(size))
                began = time.time()
                peak = _run(_API, path, kind, model)
                what = f"{size:,} characters"
            rows.append({"probe": label, "input": what, "peak_rss_mb": round(peak, 1),
                         "seconds": round(time.time() - began, 1)})
            print(f"{label:26s} {what:40s} peak RSS {peak:7.1f} MB", file=sys.stderr)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="default")
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results", "memory.json"))
    parser.add_argument("--quick", action="store_true", help="inputs a tenth of the size (not written)")
    args = parser.parse_args(argv)
    rows = measure(args.model, args.quick)
    if not args.quick:
        report = {"limit_mb": LIMIT_MB, "model": args.model, "probes": rows,
                  "machine": {"python": platform.python_version(), "platform": platform.platform(),
                              "cpus": os.cpu_count()},
                  "command": "python benchmarks/memory.py" + (f" --model {args.model}" if args.model != "default" else ""),
                  "date": time.strftime("%Y-%m-%d")}
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump(report, handle, ensure_ascii=False, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
