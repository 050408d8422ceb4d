"""Bulk-conversion throughput: ``convert --input`` and the Dask adapter, 1 and 2 workers, same text.

    python benchmarks/bulk.py --corpus ../shared/data/corpus [--megabytes 50] [--out benchmarks/results]

Takes the first ``--megabytes`` of the corpus's ``*.txt`` files (whole lines, files in name order)
into one temporary file, then times each configuration as its own process tree, end to end (start,
bundle loading in every worker, reading, converting, writing), and samples the resident memory of
every process in the tree (psutil) for the peak per worker. Both write JSON lines
``{"text": ..., "pinyin": [...]}`` with the default bundle, tone3 style. Writes bulk.json, bulk.md
and bulk.png under ``--out`` after each run (``--runs`` picks some; earlier runs on the same input
are kept). The load average at each run's start and end is recorded, as the machine may be shared.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import psutil

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

DASK_SCRIPT = """
import json, sys
import dask
import dask.bag as db
from pinyin_edge.bulk.dask import pinyin_records
src, out, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
texts = db.read_text(src, blocksize=1 << 20, encoding="utf-8").map(lambda line: {"text": line.rstrip("\\n")})
lines = pinyin_records(texts, "text").map(lambda r: json.dumps(r, ensure_ascii=False))
dask.compute(*lines.to_textfiles(out + "/*.jsonl", encoding="utf-8", compute=False),
             scheduler="processes", num_workers=workers)
"""


def sample_corpus(corpus: str, megabytes: float, dest: str) -> dict:
    limit = int(megabytes * 1e6)
    size = lines = chars = 0
    with open(dest, "wb") as out:
        for path in sorted(glob.glob(os.path.join(corpus, "*.txt"))):
            with open(path, "rb") as handle:
                for line in handle:
                    if size + len(line) > limit:
                        break
                    if not line.endswith(b"\n"):
                        line += b"\n"
                    out.write(line)
                    size += len(line)
                    lines += 1
                    chars += len(line.decode("utf-8")) - 1
            if size >= limit * 0.999:
                break
    return {"bytes": size, "lines": lines, "characters": chars}


def timed(cmd, env) -> dict:
    """Run ``cmd``; wall time and peak RSS of every process of its tree (sampled every 0.1 s)."""
    start = time.perf_counter()
    load_start = os.getloadavg()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    root = psutil.Process(proc.pid)
    peaks = {}
    while proc.poll() is None:
        try:
            tree = [root] + root.children(recursive=True)
        except psutil.NoSuchProcess:
            break
        for p in tree:
            try:
                rss = p.memory_info().rss
                name = "main" if p.pid == proc.pid else " ".join(p.cmdline()[-2:])
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            key = (p.pid, "tracker" if "resource_tracker" in name else ("main" if name == "main" else "worker"))
            peaks[key] = max(peaks.get(key, 0), rss)
        time.sleep(0.1)
    stderr = proc.stderr.read().decode(errors="replace")
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[:4]} failed ({proc.returncode}): {stderr.strip().splitlines()[-1:]}")
    workers = [v for (pid, kind), v in peaks.items() if kind == "worker"]
    return {"seconds": round(seconds, 2), "load_start": [round(x, 2) for x in load_start],
            "load_end": [round(x, 2) for x in os.getloadavg()],
            "peak_rss_main_mb": round(max([v for (pid, k), v in peaks.items() if k == "main"] or [0]) / 2**20, 1),
            "peak_rss_worker_mb": round(max(workers or [0]) / 2**20, 1), "worker_processes": len(workers)}


def render(results: dict, out: str) -> None:
    rows = results["runs"]
    lines = ["# Bulk conversion throughput", "",
             f"{results['input']['bytes'] / 1e6:.1f} MB of corpus text ({results['input']['lines']:,} lines, "
             f"{results['input']['characters']:,} characters), default bundle, tone3, JSON-lines output; "
             f"{results['cpus']} CPUs; wall time end to end (start, bundle loading, reading, writing). "
             "Load average (1 min) at start and end of each run: the machine was shared. "
             f"Fixed cost of a run (start, one worker loading the bundle, one line): "
             f"{results.get('startup_seconds', float('nan')):.1f} s.", "",
             "| run | workers | seconds | characters/s | peak RSS per worker (MB) | main process (MB) "
             "| load 1-min start/end |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['name']} | {r['workers']} | {r['seconds']:.1f} | {r['chars_per_s']:,.0f} | "
                     f"{r['peak_rss_worker_mb']:.0f} | {r['peak_rss_main_mb']:.0f} | "
                     f"{r['load_start'][0]:.1f} / {r['load_end'][0]:.1f} |")
    with open(os.path.join(out, "bulk.md"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(6, 3.2))
    names = [f"{r['name']}\n{r['workers']} worker(s)" for r in rows]
    colors = ["#4c72b0" if r["name"] == "convert" else "#dd8452" for r in rows]
    bars = ax.bar(names, [r["chars_per_s"] / 1000 for r in rows], color=colors)
    for bar, r in zip(bars, rows):
        ax.annotate(f"{r['peak_rss_worker_mb']:.0f} MB/worker", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("thousand characters/s")
    ax.set_title(f"Bulk conversion, {results['input']['bytes'] / 1e6:.0f} MB corpus, {results['cpus']} shared CPUs",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "bulk.png"), dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=os.path.join(ROOT, "..", "shared", "data", "corpus"))
    parser.add_argument("--megabytes", type=float, default=50.0)
    parser.add_argument("--out", default=os.path.join(HERE, "results"))
    parser.add_argument("--runs", default="convert:1,convert:2,dask:1,dask:2")
    parser.add_argument("--render-only", action="store_true", help="Redraw bulk.md/png from bulk.json.")
    args = parser.parse_args()
    if args.render_only:
        with open(os.path.join(args.out, "bulk.json"), encoding="utf-8") as handle:
            render(json.load(handle), args.out)
        return
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    work = tempfile.mkdtemp(prefix="pinyin-edge-bulk-bench-")
    try:
        src = os.path.join(work, "corpus.txt")
        sample = sample_corpus(args.corpus, args.megabytes, src)
        results = {"input": sample, "cpus": os.cpu_count(), "python": sys.version.split()[0], "runs": []}
        saved = os.path.join(args.out, "bulk.json")
        if os.path.exists(saved):  # runs done separately on the same input are kept
            with open(saved, encoding="utf-8") as handle:
                old = json.load(handle)
            if old.get("input") == sample:
                results["runs"] = old["runs"]
        one = os.path.join(work, "one.txt")
        with open(one, "w", encoding="utf-8") as handle:
            handle.write("银行行长\n")
        # the fixed cost of a run: process start plus one worker loading the bundle, for a one-line input
        results["startup_seconds"] = timed([sys.executable, "-m", "pinyin_edge.cli", "convert", "--input", one,
                                            "--output", os.path.join(work, "out-one")], env)["seconds"]
        for run in args.runs.split(","):
            name, workers = run.split(":")
            dest = os.path.join(work, f"out-{name}-{workers}")
            if name == "convert":
                cmd = [sys.executable, "-m", "pinyin_edge.cli", "convert", "--input", src, "--output", dest,
                       "--workers", workers, "--format", "json"]
            else:
                os.makedirs(dest)
                cmd = [sys.executable, "-c", DASK_SCRIPT, src, dest, workers]
            figures = timed(cmd, env)
            written = sum(sum(1 for _ in open(p, "rb")) for p in glob.glob(os.path.join(dest, "**", "*.jsonl"),
                                                                           recursive=True))
            if written != sample["lines"]:
                raise SystemExit(f"{run}: wrote {written} lines for {sample['lines']}")
            row = {"name": name, "workers": int(workers), **figures,
                   "chars_per_s": round(sample["characters"] / figures["seconds"])}
            results["runs"] = [r for r in results["runs"] if (r["name"], r["workers"]) != (name, int(workers))]
            results["runs"].append(row)
            results["runs"].sort(key=lambda r: (r["name"] != "convert", r["name"], r["workers"]))
            print(json.dumps(row), file=sys.stderr, flush=True)
            shutil.rmtree(dest)
            os.makedirs(args.out, exist_ok=True)
            with open(saved, "w", encoding="utf-8") as handle:
                json.dump(results, handle, indent=1)
            render(results, args.out)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
