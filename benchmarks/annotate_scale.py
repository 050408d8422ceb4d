"""`pinyin-edge dict annotate` at scale: peak memory and entries/s against the file's size.

Writes Rime dictionaries of N entries to ``runs/annotate/`` (never committed): half pypinyin phrase
table words, half two such words joined (words outside the table, which the model reads), in a fixed
shuffled order. Runs ``dict annotate`` on each as a child process and records its peak RSS and
entries/s, and pypinyin's words/s (``lazy_pinyin`` word by word, in this process) on the same words.
Flat memory means the peak does not grow with N. The child's start (imports, model load: the same
command on a dictionary without entries, median of three) is also taken out, for the rate a long
file sees: ``ratio`` is entries/s with the start over pypinyin's words/s, ``ratio_after_start``
without it.

    PYTHONPATH=. python benchmarks/annotate_scale.py [--sizes 20000 200000]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def make_words(n: int, seed: int = 0):
    from pinyin_edge.dictionaries import dictionaries

    table = sorted(w for w in dictionaries().words if 2 <= len(w) <= 4)
    rng = random.Random(seed)
    for i in range(n):
        yield rng.choice(table) if i % 2 else rng.choice(table) + rng.choice(table)


def write_rime(path: str, n: int) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("# Rime dictionary\n---\nname: scale\nversion: \"1\"\nsort: by_weight\n...\n")
        for i, word in enumerate(make_words(n)):
            handle.write(f"{word}\t\t{i % 1000}\n")


def run_child(path: str, out: str) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pinyin_edge.cli", "dict", "annotate", path, "--format", "rime",
                    "-o", out, "--quiet"], check=True, cwd=ROOT)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": wall, "peak_rss_mb": max(peak, before) / 1024}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20000, 200000])
    parser.add_argument("--runs", default=os.path.join(ROOT, "runs", "annotate"))
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results"))
    args = parser.parse_args(argv)
    os.makedirs(args.runs, exist_ok=True)
    from pypinyin import Style, lazy_pinyin

    lazy_pinyin("银行")
    empty = os.path.join(args.runs, "scale-0.dict.yaml")
    write_rime(empty, 0)
    run_child(empty, empty + ".out")  # page cache, compiled dictionaries
    start_s = sorted(run_child(empty, empty + ".out")["seconds"] for _ in range(3))[1]
    os.unlink(empty + ".out")
    rows = []
    for n in sorted(args.sizes):  # smallest first: ru_maxrss of children only grows
        path = os.path.join(args.runs, f"scale-{n}.dict.yaml")
        write_rime(path, n)
        got = run_child(path, path + ".out")
        words = list(make_words(min(n, 50000)))
        start = time.perf_counter()
        for word in words:
            lazy_pinyin(word, style=Style.NORMAL)
        pypinyin_rate = len(words) / (time.perf_counter() - start)
        row = {"entries": n, "file_mb": os.path.getsize(path) / 1e6, **got,
               "entries_per_s_with_startup": n / got["seconds"], "pypinyin_words_per_s": pypinyin_rate,
               "start_s": start_s, "entries_per_s_after_start": n / max(got["seconds"] - start_s, 1e-9),
               "loadavg": os.getloadavg()[0]}
        row["ratio"] = row["entries_per_s_with_startup"] / pypinyin_rate
        row["ratio_after_start"] = row["entries_per_s_after_start"] / pypinyin_rate
        rows.append(row)
        print(json.dumps(row), file=sys.stderr)
        os.unlink(path + ".out")
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "annotate_scale.json"), "w", encoding="utf-8") as handle:
        json.dump({"rows": rows, "note": "peak RSS of the dict annotate process (ru_maxrss); entries/s "
                   "include its start (model load), entries/s after start do not (start_s: the same "
                   "command on a dictionary without entries); ratios over pypinyin's words/s; one thread"}, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
