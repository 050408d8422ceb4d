"""`pinyin-edge dict annotate` at scale: peak memory and entries/s against the file's size.

Writes Rime dictionaries of N entries to ``runs/annotate/`` (never committed): half pypinyin phrase
table words, half two such words joined (words outside the table, which the model reads), in a fixed
shuffled order. Runs ``dict annotate`` on each as a child process and records its peak RSS and
entries/s, and pypinyin's words/s (``lazy_pinyin`` word by word, in this process) on the same words.
Flat memory means the peak does not grow with N. The child's start (imports, model load: the same
command on a dictionary without entries, median of three) is also taken out, for the rate a long
file sees: ``ratio`` is entries/s with the start over pypinyin's words/s, ``ratio_after_start``
without it. pypinyin is timed before and after each child (load that changes while one system runs
falls on both), by wall time and by CPU time (``ratio_cpu``: less moved by other processes).

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
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pinyin_edge.cli", "dict", "annotate", path, "--format", "rime",
                    "-o", out, "--quiet"], check=True, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {"seconds": wall, "cpu_seconds": cpu, "peak_rss_mb": max(after.ru_maxrss, before.ru_maxrss) / 1024}


def pypinyin_pass(words) -> tuple:
    """(wall, CPU) seconds of ``lazy_pinyin`` word by word."""
    from pypinyin import Style, lazy_pinyin

    wall, cpu = time.perf_counter(), time.process_time()
    for word in words:
        lazy_pinyin(word, style=Style.NORMAL)
    return time.perf_counter() - wall, time.process_time() - cpu


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20000, 200000])
    parser.add_argument("--runs", default=os.path.join(ROOT, "runs", "annotate"))
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results"))
    args = parser.parse_args(argv)
    os.makedirs(args.runs, exist_ok=True)
    pypinyin_pass(["银行"])
    empty = os.path.join(args.runs, "scale-0.dict.yaml")
    write_rime(empty, 0)
    run_child(empty, empty + ".out")  # page cache, compiled dictionaries
    starts = sorted((run_child(empty, empty + ".out") for _ in range(3)), key=lambda got: got["seconds"])
    start_s, start_cpu = starts[1]["seconds"], sorted(got["cpu_seconds"] for got in starts)[1]
    os.unlink(empty + ".out")
    rows = []
    for n in sorted(args.sizes):  # smallest first: ru_maxrss of children only grows
        path = os.path.join(args.runs, f"scale-{n}.dict.yaml")
        write_rime(path, n)
        words = list(make_words(min(n, 50000)))
        first = pypinyin_pass(words)  # pypinyin before and after the child: load changes fall on both
        got = run_child(path, path + ".out")
        second = pypinyin_pass(words)
        pypinyin_rate = 2 * len(words) / (first[0] + second[0])
        pypinyin_cpu_rate = 2 * len(words) / (first[1] + second[1])
        row = {"entries": n, "file_mb": os.path.getsize(path) / 1e6, **got,
               "entries_per_s_with_startup": n / got["seconds"], "pypinyin_words_per_s": pypinyin_rate,
               "start_s": start_s, "entries_per_s_after_start": n / max(got["seconds"] - start_s, 1e-9),
               "start_cpu_s": start_cpu, "pypinyin_words_per_cpu_s": pypinyin_cpu_rate,
               "loadavg": os.getloadavg()[0]}
        row["ratio"] = row["entries_per_s_with_startup"] / pypinyin_rate
        row["ratio_after_start"] = row["entries_per_s_after_start"] / pypinyin_rate
        row["ratio_cpu"] = n / got["cpu_seconds"] / pypinyin_cpu_rate
        row["ratio_cpu_after_start"] = n / max(got["cpu_seconds"] - start_cpu, 1e-9) / pypinyin_cpu_rate
        rows.append(row)
        print(json.dumps(row), file=sys.stderr)
        os.unlink(path + ".out")
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "annotate_scale.json"), "w", encoding="utf-8") as handle:
        json.dump({"rows": rows, "note": "peak RSS of the dict annotate process (ru_maxrss); entries/s "
                   "include its start (model load), entries/s after start do not (start_s: the same "
                   "command on a dictionary without entries); ratios over pypinyin's words/s (a pass "
                   "before and one after the child), by wall time and by CPU time; one thread"}, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
