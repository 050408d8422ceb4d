"""Speed against pypinyin, measured in one run: latency, throughput, isolated words, cold start, RSS.

    python benchmarks/speed.py [--data CPP_TEST_SENT] [--sentences 3000] [--first] [--rounds 2] [--model BUNDLE] [--json OUT]

* Timing runs in one process holding both systems, calls interleaved item by item (edge, then
  pypinyin, then the next item), so load from other processes falls on both alike; ratios are the
  figures to read. Inputs: ``--sentences`` sentences drawn from the whole data file with a fixed seed,
  as ``pinyin-edge bench`` draws them (no choice is made on them beyond speed). ``--first`` takes the
  file's first sentences instead: CPP files are grouped by polyphone, so the first 3,000 of CPP test
  label 149 of its 623 polyphones and fewer of them need the model (48% against 63% over the file),
  which puts the p50 on the fast side of where the whole file puts it.
* p50: per-sentence latency at batch 1 (``G2P.pinyin`` against ``lazy_pinyin``) after a warm-up; the
  one-call throughput is the same calls' characters over their summed time.
* Batched: ``G2P.pinyin_batch`` on chunks of ``--batch`` sentences against ``lazy_pinyin`` per
  sentence; best pass of ``--rounds``.
* Words: the multi-character dictionary words of the sentences' segmentation (distinct), one call
  per word and batched; IME inputs: 2-8 Han characters cut from the sentences, one call each.
* Cold start: a fresh process per run (systems alternating) imports, loads, converts one sentence
  and exits; wall time of the whole process, median of ``--cold`` runs.
* RSS: a fresh process per system loads it and converts ``--rss-sentences`` sentences (one call
  each; edge also batched), peak RSS (``ru_maxrss``).

pypinyin is called as a user calls it: ``lazy_pinyin(text, style=Style.TONE3,
neutral_tone_with_five=True, errors=lambda s: list(s))``. Only the standard library is imported
here; the systems load inside the timed processes.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.join(ROOT, "..", "shared", "data", "polyphone", "cpp", "test.sent")
SAMPLE = "在关东军于满洲建立的一系列要塞中，虎头要塞以其战略价值成为了最重要的要塞之一。"

EDGE_COLD = ("from pinyin_edge import G2P\n"
             "G2P({model!r}).pinyin({s!r})\n")
PYPINYIN_COLD = ("from pypinyin import Style, lazy_pinyin\n"
                 "lazy_pinyin({s!r}, style=Style.TONE3, neutral_tone_with_five=True, errors=lambda s: list(s))\n")


def read_texts(path: str, limit: int, first: bool = False, seed: int = 0) -> list:
    """``limit`` texts of ``path``: its first ones with ``first``, else a seeded sample in file order."""
    out = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            text = line.rstrip("\n").split("\t")[0].replace("\u2581", "")
            if text:
                out.append(text)
            if first and len(out) >= limit:
                break
    if first or len(out) <= limit:
        return out[:limit]
    return [out[i] for i in sorted(random.Random(seed).sample(range(len(out)), limit))]


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[name] = "1"
    return env


# ------------------------------------------------------------------------------------ in-process timing

def _words(texts):
    from pinyin_edge.runtime.phrases import phrase_words

    seen = {}
    for text in texts:
        for start, end in phrase_words(text):
            seen.setdefault(text[start:end], None)
    return list(seen)


def _interleaved(calls, items):
    """Per system, per item: seconds of one call; systems alternate item by item."""
    clock = time.perf_counter
    out = [[] for _ in calls]
    for item in items:
        for k, call in enumerate(calls):
            began = clock()
            call(item)
            out[k].append(clock() - began)
    return out


def timing(args) -> dict:
    from pypinyin import Style, lazy_pinyin

    from pinyin_edge import G2P

    texts = read_texts(args.data, args.sentences, args.first)
    rng = random.Random(0)
    g2p = G2P(args.model)

    def pp(text):
        return lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True, errors=lambda s: list(s))

    def pp_batch(batch):
        return [pp(t) for t in batch]

    def edge_batch(batch):
        return g2p.pinyin_batch(batch)

    names = ("edge", "pypinyin")
    one = (g2p.pinyin, pp)
    batched = (edge_batch, pp_batch)
    words = _words(texts)
    from pinyin_edge.evaluation.bench.inputs import ime_inputs

    ime = ime_inputs(texts, len(texts), rng)
    chars = sum(map(len, texts))
    result = {"model": os.path.basename(g2p.model_path.rstrip("/")), "sentences": len(texts), "chars": chars,
              "words": len(words), "ime_inputs": len(ime)}

    _interleaved(one, texts[:300] + words[:300])  # warm-up
    _interleaved(batched, [texts[i:i + args.batch] for i in range(0, min(len(texts), 640), args.batch)])

    best = {n: {} for n in names}

    def keep(name, key, value, better=max):
        best[name][key] = value if key not in best[name] else better(best[name][key], value)

    for _ in range(args.rounds):
        per_call = _interleaved(one, texts)
        for name, secs in zip(names, per_call):
            keep(name, "p50_ms", 1000 * statistics.median(secs), min)
            keep(name, "one_call_chars_per_s", chars / sum(secs))
        chunks = [texts[i:i + args.batch] for i in range(0, len(texts), args.batch)]
        for name, secs in zip(names, _interleaved(batched, chunks)):
            keep(name, "batched_chars_per_s", chars / sum(secs))
        for name, secs in zip(names, _interleaved(one, words)):
            keep(name, "words_per_s", len(words) / sum(secs))
            keep(name, "word_p50_ms", 1000 * statistics.median(secs), min)
        wchunks = [words[i:i + args.word_batch] for i in range(0, len(words), args.word_batch)]
        for name, secs in zip(names, _interleaved(batched, wchunks)):
            keep(name, "words_batched_per_s", len(words) / sum(secs))
        for name, secs in zip(names, _interleaved(one, ime)):
            keep(name, "ime_per_s", len(ime) / sum(secs))
    result.update(best)
    return result


# ------------------------------------------------------------------------------------ processes

def _cold(system: str, python: str, model: str = None) -> float:
    code = (EDGE_COLD if system == "edge" else PYPINYIN_COLD).format(s=SAMPLE, model=model)
    began = time.perf_counter()
    subprocess.run([python, "-c", code], check=True, env=_env(), cwd=ROOT)
    return time.perf_counter() - began


RSS_CODE = """
import resource, sys
sys.path.insert(0, {root!r})
texts = []
with open({data!r}, encoding='utf-8') as f:
    for line in f:
        t = line.rstrip('\\n').split('\\t')[0].replace('\\u2581', '')
        if t: texts.append(t)
        if len(texts) >= {n}: break
if {system!r} == 'pypinyin':
    from pypinyin import Style, lazy_pinyin
    for t in texts:
        lazy_pinyin(t, style=Style.TONE3, neutral_tone_with_five=True, errors=lambda s: list(s))
else:
    from pinyin_edge import G2P
    g = G2P({model!r})
    if {system!r} == 'edge-batched':
        for i in range(0, len(texts), 64):
            g.pinyin_batch(texts[i:i + 64])
    else:
        for t in texts:
            g.pinyin(t)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def _rss(system: str, python: str, data: str, n: int, model: str = None) -> float:
    code = RSS_CODE.format(root=ROOT, data=data, n=n, system=system, model=model)
    out = subprocess.run([python, "-c", code], check=True, env=_env(), cwd=ROOT, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--sentences", type=int, default=3000)
    parser.add_argument("--first", action="store_true",
                        help="time the file's first --sentences sentences instead of a seeded sample")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--word-batch", type=int, default=256)
    parser.add_argument("--cold", type=int, default=5)
    parser.add_argument("--rss-sentences", type=int, default=10000)
    parser.add_argument("--model", help="edge's bundle (default: the bundled default model)")
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: timing,cold,rss")
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not os.path.exists(args.data):
        print(f"error: {args.data}: no such data file (give --data)", file=sys.stderr)
        return 2
    if args.worker:
        print(json.dumps(timing(args)))
        return 0
    skip = set(filter(None, args.skip.split(",")))
    python = sys.executable
    report = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                          "loadavg_before": os.getloadavg()}}
    if "timing" not in skip:
        cmd = [python, os.path.abspath(__file__), "--worker", "--data", args.data,
               "--sentences", str(args.sentences), "--rounds", str(args.rounds),
               *(["--first"] if args.first else []),
               "--batch", str(args.batch), "--word-batch", str(args.word_batch)]
        if args.model:
            cmd += ["--model", args.model]
        out = subprocess.run(cmd, check=True, env=_env(), cwd=ROOT, capture_output=True, text=True)
        report["timing"] = json.loads(out.stdout.strip().splitlines()[-1])
    if "cold" not in skip:
        runs = {"edge": [], "pypinyin": []}
        _cold("edge", python, args.model), _cold("pypinyin", python)  # page cache, dictionary cache
        for _ in range(args.cold):
            for system in runs:
                runs[system].append(_cold(system, python, args.model))
        report["cold_s"] = {k: statistics.median(v) for k, v in runs.items()}
    if "rss" not in skip:
        report["rss_mb"] = {s: _rss(s, python, args.data, args.rss_sentences, args.model)
                            for s in ("edge", "edge-batched", "pypinyin")}
    report["machine"]["loadavg_after"] = os.getloadavg()
    print(render(report))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=1)
    return 0


def render(report: dict) -> str:
    rows = ["| figure | edge | pypinyin | edge / pypinyin |", "|---|---|---|---|"]
    timing = report.get("timing")
    if timing:
        e, p = timing["edge"], timing["pypinyin"]
        for key, label, lower_better in (
                ("p50_ms", "p50 ms per sentence, batch 1", True),
                ("one_call_chars_per_s", "chars/s, one call per sentence", False),
                ("batched_chars_per_s", "chars/s, batched", False),
                ("word_p50_ms", "p50 ms per isolated word", True),
                ("words_per_s", "words/s, one call per word", False),
                ("words_batched_per_s", "words/s, batched", False),
                ("ime_per_s", "IME inputs/s (2-8 chars), one call each", False)):
            fmt = "{:.3f}" if lower_better else "{:,.0f}"
            rows.append(f"| {label} | {fmt.format(e[key])} | {fmt.format(p[key])} | {e[key] / p[key]:.2f}x |")
    def ratio_row(label, edge, pypinyin, fmt):
        rows.append(f"| {label} | {fmt.format(edge)} | {fmt.format(pypinyin)} | {edge / pypinyin:.2f}x |")

    if "cold_s" in report:
        ratio_row("cold start s (process)", report["cold_s"]["edge"], report["cold_s"]["pypinyin"], "{:.3f}")
    if "rss_mb" in report:
        r = report["rss_mb"]
        ratio_row("peak RSS MB, one call each", r["edge"], r["pypinyin"], "{:.1f}")
        ratio_row("peak RSS MB, batched", r["edge-batched"], r["pypinyin"], "{:.1f}")
    m = report["machine"]
    rows.append("")
    counts = f"; {timing['sentences']} sentences, {timing['words']} words" if timing else ""
    rows.append(f"load average before {m['loadavg_before'][0]:.2f}, after {m['loadavg_after'][0]:.2f} "
                f"({m['cpus']} CPUs){counts}")
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
