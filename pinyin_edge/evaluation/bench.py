"""``pinyin-edge bench``: accuracy, latency, throughput, cold start, memory and size of every system,
measured in one run so that ratios between them mean something.

How it is measured (benchmarks/README.md says the same at more length):

* The parent process (this module, run by the CLI) reads the data, draws the inputs once (fixed seed),
  and runs every system in **its own fresh subprocesses** (``python -m pinyin_edge.evaluation.bench
  worker ...``), so one system's imports, caches and memory never touch another's figures:

  - *cold start*: a fresh process per run imports the system's engine module, loads it and converts
    one sentence; it reports the three times and its own peak RSS (``ru_maxrss``);
  - *measure*: another fresh process loads the system, times batch-1 calls on three input kinds
    (IME-like 2-8 characters, the data's sentences, 300+ character paragraphs) after a warm-up,
    records its peak RSS, times batched prediction, then scores accuracy through
    :func:`pinyin_edge.evaluation.evaluate.evaluate` (the ``eval`` command's code path);
  - *speed*: timing rounds 2..N (latency and batched throughput again, no accuracy), the systems
    taking turns; the figures reported are each system's best over the rounds (medians kept too).

* A system that cannot run (no bundle, no checkpoint, package missing) is reported as skipped with the
  reason; one that crashes is reported as failed; the benchmark goes on.
* The results go to ``bench.json`` (every figure, the machine, versions, manifests and the command);
  ``bench.md`` and ``bench.png`` are rendered from that JSON alone (``python -m
  pinyin_edge.evaluation.bench render DIR`` re-renders them).

Only the standard library is imported at module level: the worker measures its own imports.
"""
from __future__ import annotations

import json
import math
import os
import platform
import random
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

SCHEMA = "pinyin-edge-bench/1"
SYSTEM_NAMES = ("edge", "edge-fp32", "torch", "pypinyin", "g2pm")
KINDS = ("ime", "sentence", "paragraph")
KIND_LABELS = {"ime": "IME 2-8 chars", "sentence": "sentences", "paragraph": "paragraphs 300+ chars"}
BASELINES = ("pypinyin", "g2pm")
DEFAULT_DATA = os.path.join("..", "shared", "data", "polyphone", "cpp", "test.sent")
DEFAULT_OUT = os.path.join("benchmarks", "results")
PARAGRAPH_CHARS = 300
THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
              "VECLIB_MAXIMUM_THREADS")
# What each system imports first: the "import" part of its cold start.
ENGINE_MODULES = {"edge": "pinyin_edge.runtime.g2p", "edge-fp32": "pinyin_edge.runtime.g2p",
                  "torch": "pinyin_edge.modeling.scorer", "pypinyin": "pypinyin", "g2pm": "g2pM"}
# DESIGN.md's targets for the shipped int8 model.
TARGETS = {"cpp_accuracy": 0.9908, "cpp_milestone": 0.9731, "g2pl_accuracy": 0.98, "bundle_mb": 10.0,
           "p50_ms": 0.5, "int8_drop_points": 0.2, "cold_start_s": 0.5, "rss_mb": 120.0}
# The baselines' p50 on the machine where DESIGN.md set p50_ms: the same target as a ratio to each, for
# machines faster or slower than that one (DESIGN.md quotes figures as ratios from the same run).
DESIGN_P50_MS = {"pypinyin": 0.20, "g2pm": 1.15}

Log = Callable[[str], None]


# --------------------------------------------------------------------------------------- settings

@dataclass(frozen=True)
class Plan:
    """How much to measure. ``accuracy_sentences=None`` scores every sentence of every data file."""

    accuracy_sentences: Optional[int]
    iterations: Dict[str, int]          # timed batch-1 calls per input kind (distinct inputs)
    warmup: Dict[str, int]              # untimed calls first, on other inputs of the same kind
    max_seconds: float                  # time cap per input kind and for the batched run
    cold_runs: int                      # fresh processes for the cold start (median reported)
    worker_timeout: float               # seconds before a worker is killed and the system marked failed
    speed_rounds: int = 1               # timing rounds per system, interleaved across systems (best kept)


QUICK = Plan(accuracy_sentences=300, iterations={"ime": 200, "sentence": 200, "paragraph": 30},
             warmup={"ime": 20, "sentence": 20, "paragraph": 3}, max_seconds=4.0, cold_runs=1,
             worker_timeout=300.0, speed_rounds=2)
FULL = Plan(accuracy_sentences=None, iterations={"ime": 2000, "sentence": 2000, "paragraph": 200},
            warmup={"ime": 100, "sentence": 100, "paragraph": 10}, max_seconds=30.0, cold_runs=3,
            worker_timeout=1800.0, speed_rounds=3)


@dataclass
class BenchConfig:
    data: List[str]
    out: str
    systems: Sequence[str] = SYSTEM_NAMES
    model: Optional[str] = None        # int8 bundle; None: the bundle shipped in the package
    fp32_model: Optional[str] = None
    checkpoint: Optional[str] = None   # None: the bundle manifest's source checkpoint, if it exists
    threads: int = 1
    quick: bool = False
    batch_size: int = 64
    seed: int = 0
    command: Optional[str] = None      # the command line to record; default: this process's argv
    plot: bool = True


# --------------------------------------------------------------------------------------- helpers

def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); ``sorted_values`` ascending."""
    if not sorted_values:
        return float("nan")
    pos = (len(sorted_values) - 1) * q / 100.0
    low = math.floor(pos)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (pos - low)


def latency_stats(samples_ms: Sequence[float]) -> Dict[str, float]:
    values = sorted(samples_ms)
    out: Dict[str, float] = {"n": len(values)}
    if not values:
        return out
    for q in (1, 5, 25, 50, 75, 95, 99):
        out[f"p{q}"] = round(percentile(values, q), 5)
    out["min"] = round(values[0], 5)
    out["max"] = round(values[-1], 5)
    out["mean"] = round(sum(values) / len(values), 5)
    return out


def _draw(pool: Sequence[str], k: int, rng: random.Random) -> List[str]:
    """``k`` items of ``pool``: without replacement while it lasts, then again from the start."""
    out: List[str] = []
    while len(out) < k:
        out.extend(rng.sample(list(pool), min(len(pool), k - len(out))))
    return out


def _han_runs(text: str, minimum: int) -> List[str]:
    from ..readings import is_han

    runs, start = [], None
    for i, ch in enumerate(text + "\0"):
        if i < len(text) and is_han(ch):
            start = i if start is None else start
        elif start is not None:
            if i - start >= minimum:
                runs.append(text[start:i])
            start = None
    return runs


def ime_inputs(pool: Sequence[str], k: int, rng: random.Random) -> List[str]:
    """``k`` IME-like inputs: 2-8 consecutive Han characters cut from the pool's sentences."""
    runs = [run for text in pool for run in _han_runs(text, 2)]
    if not runs:  # no Han pairs at all: cut any 2-8 characters
        runs = [t for t in pool if len(t) >= 2] or [t * 2 for t in pool if t]
    out = []
    for _ in range(k):
        run = rng.choice(runs)
        length = rng.randint(2, min(8, len(run)))
        start = rng.randint(0, len(run) - length)
        out.append(run[start:start + length])
    return out


def paragraph_inputs(pool: Sequence[str], k: int, rng: random.Random,
                     min_chars: int = PARAGRAPH_CHARS) -> List[str]:
    """``k`` paragraphs of at least ``min_chars`` characters: sentences drawn at random, concatenated."""
    out = []
    for _ in range(k):
        parts, size = [], 0
        while size < min_chars:
            sentence = rng.choice(pool)
            parts.append(sentence)
            size += len(sentence)
        out.append("".join(parts))
    return out


def build_inputs(texts: Sequence[str], plan: Plan, seed: int) -> Dict[str, Dict[str, List[str]]]:
    """Per input kind: ``{"warmup": [...], "timed": [...]}``, the same for every system."""
    pool = [t for t in texts if t.strip()]
    if not pool:
        raise ValueError("the first data file has no text to time")
    rng = random.Random(seed)
    makers = {"ime": lambda k: ime_inputs(pool, k, rng),
              "sentence": lambda k: _draw(pool, k, rng),
              "paragraph": lambda k: paragraph_inputs(pool, k, rng)}
    out = {}
    for kind in KINDS:
        drawn = makers[kind](plan.iterations[kind] + plan.warmup[kind])
        out[kind] = {"timed": drawn[:plan.iterations[kind]], "warmup": drawn[plan.iterations[kind]:]}
    return out


def subset_indices(n: int, limit: Optional[int], seed: int) -> Optional[List[int]]:
    """Sorted indices of a fixed random sample of ``limit`` out of ``n``; None = all."""
    if limit is None or n <= limit:
        return None
    return sorted(random.Random(seed).sample(range(n), limit))


def data_name(path: str) -> str:
    """``../shared/data/polyphone/cpp/test.sent`` -> ``cpp/test``."""
    stem = os.path.splitext(os.path.basename(path))[0]
    parent = os.path.basename(os.path.dirname(os.path.abspath(path)))
    return f"{parent}/{stem}" if parent else stem


def _maxrss_mb() -> float:
    """This process's peak RSS, ``getrusage(RUSAGE_SELF).ru_maxrss``, in MB."""
    import resource

    # Linux reports kilobytes, macOS bytes.
    scale = 1 / 1024 if sys.platform != "darwin" else 1 / (1024 * 1024)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale, 1)


def _hwm_mb() -> Optional[float]:
    """Linux's VmHWM (peak RSS of this process image): a cross-check of ``ru_maxrss``."""
    try:
        with open("/proc/self/status", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    return None


def dir_bytes(path: str, skip=("__pycache__",)) -> int:
    total = 0
    for root, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if d not in skip]
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files
                     if not os.path.islink(os.path.join(root, f)))
    return total


def repo_root() -> str:
    """The checkout this package runs from (the folder above ``pinyin_edge/``)."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def default_path(relative: str) -> str:
    """``relative`` to the repository root when running from a checkout, else to the current folder."""
    root = repo_root()
    if os.path.exists(os.path.join(root, "pyproject.toml")):
        return os.path.normpath(os.path.join(root, relative))
    return relative


# --------------------------------------------------------------------------------------- environment

def machine_info() -> Dict[str, Any]:
    info: Dict[str, Any] = {"platform": platform.platform(), "machine": platform.machine(),
                            "cpu_model": platform.processor() or None, "logical_cpus": os.cpu_count()}
    try:
        info["usable_cpus"] = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        info["usable_cpus"] = os.cpu_count()
    interesting = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8", "fma", "sse4_2", "asimd")
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            cpuinfo = handle.read()
        for line in cpuinfo.splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key in ("model name", "Model", "Hardware") and info.get("cpu_model") in (None, "", "x86_64"):
                info["cpu_model"] = value.strip()
            if key in ("flags", "Features") and "cpu_flags" not in info:
                present = set(value.split())
                info["cpu_flags"] = [f for f in interesting if f in present]
        model_names = [l.partition(":")[2].strip() for l in cpuinfo.splitlines() if l.startswith("model name")]
        if model_names:
            info["cpu_model"] = model_names[0]
    except OSError:
        pass
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    info["memory_mb"] = round(int(line.split()[1]) / 1024)
    except (OSError, ValueError, IndexError):
        pass
    return info


def _loadavg() -> Optional[List[float]]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def library_versions() -> Dict[str, Optional[str]]:
    from importlib import metadata

    out: Dict[str, Optional[str]] = {"python": f"{platform.python_implementation()} {platform.python_version()}"}
    for dist in ("pinyin-edge", "numpy", "onnxruntime", "pypinyin", "g2pM", "torch", "transformers", "click",
                 "matplotlib"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def git_info(root: str) -> Optional[Dict[str, Any]]:
    try:
        commit = subprocess.run(["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10)
        if commit.returncode != 0:
            return None
        status = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, timeout=10)
        return {"commit": commit.stdout.strip(), "dirty": bool(status.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return None


def manifest_summary(bundle_dir: str) -> Dict[str, Any]:
    from ..bundle import read_manifest, sha256_file

    manifest = read_manifest(bundle_dir)
    graph = os.path.join(bundle_dir, manifest.graph_file)
    manifest_path = os.path.join(bundle_dir, "manifest.json")
    polyphones = sum(1 for readings in manifest.candidates.values() if len(readings) > 1)
    return {
        "path": bundle_dir,
        "graph_sha256": manifest.graph_sha256,
        "sha256_matches": os.path.exists(graph) and sha256_file(graph) == manifest.graph_sha256,
        "graph_bytes": os.path.getsize(graph) if os.path.exists(graph) else None,
        "manifest_bytes": os.path.getsize(manifest_path),
        "quantization": manifest.quantization,
        "max_length": manifest.max_length,
        "vocab_size": len(manifest.vocab),
        "labels": len(manifest.labels),
        "polyphones": polyphones,
        "source": {k: manifest.provenance.get(k) for k in ("checkpoint", "base_model", "step") if k in manifest.provenance},
        "metrics": {k: v for k, v in manifest.metrics.items() if k in ("dev", "size_bytes")},
        "model_card": manifest.model_card,
    }


def _quant_label(summary: Dict[str, Any]) -> str:
    mode = str((summary.get("quantization") or {}).get("mode", "none")).lower()
    return "fp32" if mode in ("none", "", "fp32") else mode


# --------------------------------------------------------------------------------------- worker side

def _set_torch_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set, or parallel work already started
        pass


def build_system(name: str, model: Optional[str], threads: int, policy_of: Optional[str] = None):
    """The evaluation system behind a bench name (``edge-fp32`` is the edge runtime on another bundle)."""
    from .systems import make_system

    if name in ("edge", "edge-fp32"):
        system = make_system("edge", model=model, threads=threads)
        system.name = name
        return system
    if name == "torch":
        _set_torch_threads(threads)
        return make_system("torch", model=model, policy_of=policy_of)  # decide as the edge bundle
    return make_system(name)


def single_call(system) -> Callable[[str], List[str]]:
    """How a user converts one text: ``G2P.pinyin`` for edge, the engine's own one-text call otherwise."""
    g2p = getattr(system, "g2p", None)
    if g2p is not None:
        return lambda text: g2p.pinyin(text, style="tone3")
    one = getattr(system, "predict_one", None)
    if one is not None:
        return one
    return lambda text: system.predict([text])[0]


def time_calls(call: Callable[[str], Any], timed: Sequence[str], warmup: Sequence[str],
               max_seconds: float, min_calls: int = 20) -> Tuple[List[float], int]:
    """Batch-1 latencies in ms (one per timed input, in order, until ``max_seconds`` have been spent
    and at least ``min_calls`` were made); returns (samples, characters converted)."""
    for text in warmup:
        call(text)
    samples: List[float] = []
    chars = 0
    spent = 0.0
    clock = time.perf_counter_ns
    for text in timed:
        began = clock()
        call(text)
        elapsed = (clock() - began) / 1e6
        samples.append(elapsed)
        chars += len(text)
        spent += elapsed / 1000
        if spent > max_seconds and len(samples) >= min(min_calls, len(timed)):
            break
    return samples, chars


def time_batched(system, texts: Sequence[str], batch_size: int, max_seconds: float) -> Dict[str, Any]:
    """``system.predict`` over batches of ``batch_size``, timed on the second of two passes over the
    same batches. The first pass warms what a long-running process has warm: onnxruntime allocates
    for each new (batch, length) shape, and one warm-up batch left the timed figure 20-30% low and
    varying from run to run."""
    def one_pass() -> Tuple[float, int, int]:
        seconds, sentences, chars = 0.0, 0, 0
        for start in range(0, len(texts), batch_size):
            batch = list(texts[start:start + batch_size])
            began = time.perf_counter()
            system.predict(batch)
            seconds += time.perf_counter() - began
            sentences += len(batch)
            chars += sum(len(t) for t in batch)
            if seconds > max_seconds:
                break
        return seconds, sentences, chars

    _, warmed, _ = one_pass()
    texts = texts[:warmed]  # the timed pass covers exactly the warmed batches
    seconds, sentences, chars = one_pass()
    return {"seconds": round(seconds, 4), "sentences": sentences, "chars": chars,
            "chars_per_s": round(chars / seconds, 1) if seconds > 0 else None,
            "sentences_per_s": round(sentences / seconds, 1) if seconds > 0 else None}


def _unavailable(exc: BaseException) -> bool:
    from .systems import SystemUnavailable

    try:
        from ..bundle import BundleError
    except ImportError:  # pragma: no cover
        BundleError = ()  # type: ignore
    return isinstance(exc, (SystemUnavailable, ImportError, FileNotFoundError, BundleError)) or \
        type(exc).__name__ == "CheckpointError"


def _worker_error(exc: BaseException) -> Dict[str, Any]:
    text = str(exc).strip()
    message = text.splitlines()[0] if text else type(exc).__name__
    skipped = _unavailable(exc)
    if not skipped:
        import traceback

        traceback.print_exc(file=sys.stderr)
    return {"status": "skipped" if skipped else "failed", "reason": f"{type(exc).__name__}: {message}"}


def worker_cold(spec: Dict[str, Any], name: str) -> Dict[str, Any]:
    """Import + load + first call, in a process that has done nothing else (this one)."""
    import importlib

    began = time.perf_counter()
    base_rss = _maxrss_mb()
    target = spec["targets"][name]
    try:
        importlib.import_module(ENGINE_MODULES[name])
        imported = time.perf_counter()
        system = build_system(name, target.get("model"), spec["threads"], target.get("policy_of"))
        loaded = time.perf_counter()
        single_call(system)(spec["first_text"])
        done = time.perf_counter()
    except Exception as exc:  # noqa: BLE001 - reported, never raised
        return _worker_error(exc)
    return {"status": "ok", "import_s": imported - began, "load_s": loaded - imported,
            "first_call_s": done - loaded, "total_s": done - began, "peak_rss_mb": _maxrss_mb(),
            "vm_hwm_mb": _hwm_mb(), "base_rss_mb": base_rss}


def _time_system(system, spec: Dict[str, Any], result: Dict[str, Any], log: Log) -> None:
    """Batch-1 latency per input kind, then batched throughput, into ``result``."""
    result["latency_samples_ms"], result["latency_chars"] = {}, {}
    call = single_call(system)
    for kind in KINDS:
        inputs = spec["inputs"][kind]
        samples, chars = time_calls(call, inputs["timed"], inputs["warmup"], spec["max_seconds"])
        result["latency_samples_ms"][kind] = samples
        result["latency_chars"][kind] = chars
        stats = latency_stats(samples)
        log(f"{KIND_LABELS[kind]}: p50 {stats['p50']:.3f} ms, p95 {stats['p95']:.3f} ms (n={stats['n']})")
    result["rss_after_latency_mb"] = _maxrss_mb()
    result["vm_hwm_after_latency_mb"] = _hwm_mb()
    result["batched"] = time_batched(system, spec["inputs"]["sentence"]["timed"], spec["batch_size"],
                                     spec["max_seconds"])
    log(f"batched ({spec['batch_size']}): {result['batched']['chars_per_s'] or 0:,.0f} chars/s")


def worker_measure(spec: Dict[str, Any], name: str, with_accuracy: bool = True) -> Dict[str, Any]:
    """Latency per input kind, RSS, batched throughput, then (``with_accuracy``) accuracy through the
    eval code path. Without accuracy it is one more timing round (the ``speed`` worker)."""
    log = lambda message: print(f"[bench] {name}: {message}", file=sys.stderr, flush=True)  # noqa: E731
    target = spec["targets"][name]
    try:
        system = build_system(name, target.get("model"), spec["threads"], target.get("policy_of"))
    except Exception as exc:  # noqa: BLE001
        return _worker_error(exc)
    result: Dict[str, Any] = {"status": "ok", "loaded_rss_mb": _maxrss_mb()}
    try:
        _time_system(system, spec, result, log)
        if with_accuracy:
            result["accuracy"] = _accuracy(system, spec, log)
        result["rss_end_mb"] = _maxrss_mb()
    except Exception as exc:  # noqa: BLE001
        failure = _worker_error(exc)
        failure["status"] = "failed"
        return failure
    return result


def _accuracy(system, spec: Dict[str, Any], log: Log) -> List[Dict[str, Any]]:
    from ..candidates import CandidateTable
    from ..data import Dataset, read_labelled
    from .evaluate import evaluate

    table = CandidateTable.from_pypinyin()
    out = []
    for entry in spec["data"]:
        dataset = read_labelled(entry["path"])
        picked = subset_indices(len(dataset.examples), spec["accuracy_sentences"], spec["seed"])
        if picked is not None:
            dataset = Dataset([dataset.examples[i] for i in picked], dataset.skipped, dataset.errors)
        result = evaluate(system, dataset, [entry["path"]], batch_size=spec["batch_size"], table=table)
        log(f"accuracy on {entry['name']}: {100 * result.accuracy:.2f}% ({result.correct}/{result.total})")
        summary = result.to_json()
        out.append({"name": entry["name"], "path": entry["path"], "sampled": picked is not None,
                    **{k: summary[k] for k in ("accuracy", "correct", "total", "sentences", "outside_candidates",
                                               "seconds", "sentences_per_s", "chars_per_s")}})
    return out


def worker_main(argv: Sequence[str]) -> int:
    """``worker cold|measure|speed SPEC OUT NAME``: one system, one measurement, result as JSON in OUT."""
    mode, spec_path, out_path, name = argv
    if mode not in ("cold", "measure", "speed"):
        raise SystemExit(f"unknown worker mode {mode!r}")
    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    result = worker_cold(spec, name) if mode == "cold" else worker_measure(spec, name, mode == "measure")
    with open(out_path, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    return 0


# --------------------------------------------------------------------------------------- parent side

def _worker_env(threads: int) -> Dict[str, str]:
    env = dict(os.environ)
    for key in THREAD_ENV:
        env[key] = str(threads)
    root = repo_root()
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("PYTHONWARNINGS", None)
    return env


def worker_command(mode: str, spec_path: str, out_path: str, name: str) -> List[str]:
    """The worker's command line. On POSIX it goes through ``/bin/sh``, which *forks* the worker:
    Linux carries a process's peak RSS across ``exec`` (a child exec'd straight from this process would
    report this process's RSS as its own ``ru_maxrss``), and the small shell resets it."""
    command = [sys.executable, "-m", "pinyin_edge.evaluation.bench", "worker", mode, spec_path, out_path, name]
    if os.name == "posix" and os.path.exists("/bin/sh"):
        return ["/bin/sh", "-c", '"$0" "$@"; exit $?'] + command
    return command


def run_worker(mode: str, spec_path: str, name: str, threads: int, timeout: float) -> Dict[str, Any]:
    """Run one worker subprocess (stderr passes through: its progress shows); returns its result."""
    import signal

    fd, out_path = tempfile.mkstemp(prefix=f"bench-{name}-{mode}-", suffix=".json",
                                    dir=os.path.dirname(spec_path))
    os.close(fd)
    began = time.perf_counter()
    proc = subprocess.Popen(worker_command(mode, spec_path, out_path, name), env=_worker_env(threads),
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            start_new_session=os.name == "posix")

    def stop() -> None:  # the shell and the worker it started: their own process group
        try:
            if os.name == "posix":
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
        except OSError:
            pass
        proc.wait()

    try:
        try:
            returncode = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop()
            return {"status": "failed", "reason": f"{mode} worker ran past {timeout:.0f} s and was stopped"}
        except BaseException:
            stop()
            raise
        wall = time.perf_counter() - began
        if returncode != 0 or os.path.getsize(out_path) == 0:
            return {"status": "failed", "reason": f"{mode} worker exited with status {returncode}"}
        with open(out_path, encoding="utf-8") as handle:
            result = json.load(handle)
        result["process_wall_s"] = wall
        return result
    finally:
        try:
            os.remove(out_path)
        except OSError:
            pass


def _median(values: Sequence[float]) -> Optional[float]:
    values = sorted(v for v in values if v is not None)
    return percentile(values, 50) if values else None


def summarise_cold(runs: List[Dict[str, Any]]) -> Dict[str, Any]:
    keys = ("import_s", "load_s", "first_call_s", "total_s", "process_wall_s", "peak_rss_mb", "vm_hwm_mb",
            "base_rss_mb")
    out: Dict[str, Any] = {}
    for key in keys:
        value = _median([r.get(key) for r in runs])
        if value is not None:
            out[key] = round(value, 4)
    out["runs"] = [{k: round(r[k], 4) for k in keys if r.get(k) is not None} for r in runs]
    return out


def resolve_targets(cfg: BenchConfig, log: Log) -> Dict[str, Dict[str, Any]]:
    """Per requested system: what it runs on (``model``), its size on disk, or why it is skipped."""
    import importlib.util

    from ..bundle import BundleError, resolve_bundle

    def find(module: str) -> bool:
        try:
            return importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            return False

    targets: Dict[str, Dict[str, Any]] = {}
    edge_manifest = None
    for name in cfg.systems:
        entry: Dict[str, Any] = {"notes": []}
        targets[name] = entry
        if name in ("edge", "edge-fp32"):
            path = cfg.model if name == "edge" else cfg.fp32_model
            if name == "edge" and resolve_bundle(path) != path:  # none given, or a bundled model's name
                entry["notes"].append(f"the bundle shipped in the package ({path or 'default'})")
                path = resolve_bundle(path)
            if path is None:
                entry["skip"] = "no --fp32-model given (make one with `pinyin-edge export CKPT --quantize none`)"
                continue
            if not os.path.isdir(path):
                entry["skip"] = f"no model bundle at {path}"
                continue
            try:
                summary = manifest_summary(path)
            except (BundleError, OSError, ValueError) as exc:
                entry["skip"] = f"{path}: {exc}"
                continue
            entry.update(model=path, manifest=summary,
                         size={"bytes": summary["graph_bytes"], "what": "bundle graph (model.onnx)",
                               "manifest_bytes": summary["manifest_bytes"]})
            entry["label"] = f"edge {_quant_label(summary)}"
            if name == "edge":
                edge_manifest = summary
            elif _quant_label(summary) != "fp32":
                entry["notes"].append(f"the --fp32-model bundle is quantized ({_quant_label(summary)})")
        elif name == "torch":
            path = cfg.checkpoint
            if path is None and edge_manifest is not None:
                source = (edge_manifest.get("source") or {}).get("checkpoint")
                if source and os.path.isdir(source):
                    path = source
                    entry["notes"].append(f"checkpoint from the edge bundle's manifest ({source})")
            if not (find("torch") and find("transformers")):
                entry["skip"] = "the 'train' extra is not installed (torch, transformers): " \
                                "pip install 'pinyin-edge[train]'"
                continue
            if path is None:
                entry["skip"] = "no --checkpoint given"
                continue
            if not os.path.exists(path):
                entry["skip"] = f"no checkpoint at {path}"
                continue
            # A training output folder holds best/ (what the predictor loads) and last/ (with optimizer state).
            weights = os.path.join(path, "best") if os.path.isdir(os.path.join(path, "best")) else path
            if edge_manifest is not None and targets.get("edge", {}).get("model"):
                entry["policy_of"] = targets["edge"]["model"]  # the same phrase policy as the bundle
            entry.update(model=path, label="torch (PyTorch original)",
                         size={"bytes": dir_bytes(weights) if os.path.isdir(weights) else os.path.getsize(weights),
                               "what": "checkpoint folder (fp32 encoder + head + tokenizer)", "path": weights})
        elif name == "pypinyin":
            entry["label"] = "pypinyin"
            entry["notes"].append("no batch API: its batched figure is its per-sentence loop")
            package = _package_dir("pypinyin")
            if package:
                data = sum(os.path.getsize(os.path.join(package, f)) for f in os.listdir(package)
                           if f.endswith(".json"))
                entry["size"] = {"bytes": data, "what": "dictionary data (*.json in the package)",
                                 "package_bytes": dir_bytes(package)}
        elif name == "g2pm":
            if not find("g2pM"):
                entry["skip"] = "g2pM is not installed: pip install 'pinyin-edge[bench]'"
                continue
            entry["label"] = "g2pM"
            entry["notes"].append("no batch API: its batched figure is its per-sentence loop")
            package = _package_dir("g2pM")
            if package:
                entry["size"] = {"bytes": dir_bytes(package), "what": "package directory (without __pycache__)"}
        else:
            raise ValueError(f"unknown system {name!r}; choose from: {', '.join(SYSTEM_NAMES)}")
    return targets


def _package_dir(module: str) -> Optional[str]:
    import importlib.util

    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)[0]


def _default_log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def run_bench(cfg: BenchConfig, plan: Optional[Plan] = None, log: Log = _default_log) -> Dict[str, Any]:
    """Run the whole benchmark; writes bench.json, bench.md (and bench.png) into ``cfg.out``."""
    from ..data import read_labelled

    plan = plan or (QUICK if cfg.quick else FULL)
    started = time.perf_counter()
    if not cfg.data:
        raise ValueError("no data files given")
    unknown = [s for s in cfg.systems if s not in SYSTEM_NAMES]
    if unknown:
        raise ValueError(f"unknown system {unknown[0]!r}; choose from: {', '.join(SYSTEM_NAMES)}")
    data_entries, names = [], set()
    primary_texts: List[str] = []
    for path in cfg.data:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{path}: no such data file")
        dataset = read_labelled(path)
        if not dataset.num_labels():
            raise ValueError(f"{path}: no labelled characters to score")
        name = data_name(path)
        if name in names:
            name = path
        names.add(name)
        data_entries.append({"name": name, "path": os.path.abspath(path), "sentences": len(dataset),
                             "labels": dataset.num_labels(),
                             "scored_sentences": min(len(dataset), plan.accuracy_sentences or len(dataset))})
        if not primary_texts:
            primary_texts = [ex.text for ex in dataset.examples]
    log("data: " + ", ".join(f"{d['name']} ({d['sentences']:,} sentences)" for d in data_entries))
    inputs = build_inputs(primary_texts, plan, cfg.seed)
    targets = resolve_targets(cfg, log)

    report: Dict[str, Any] = {
        "schema": SCHEMA,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": cfg.command or ("pinyin-edge " + shlex.join(sys.argv[1:])
                                   if os.path.basename(sys.argv[0]).startswith("pinyin-edge")
                                   else shlex.join([os.path.basename(sys.executable)] + sys.argv)),
        "cwd": os.getcwd(),
        "git": git_info(repo_root()),
        "settings": {"quick": cfg.quick, "threads": cfg.threads, "batch_size": cfg.batch_size, "seed": cfg.seed,
                     "systems": list(cfg.systems), "plan": asdict(plan)},
        "machine": machine_info(),
        "versions": library_versions(),
        "data": data_entries,
        "inputs": {kind: _input_stats(inputs[kind]["timed"]) for kind in KINDS},
        "systems": {},
    }
    report["machine"]["loadavg_start"] = _loadavg()
    if any(n.startswith("edge") and "skip" not in targets[n] for n in cfg.systems):
        report["dictionary_cache"] = prepare_dictionary_cache(log)
        for name in cfg.systems:
            if name.startswith("edge") and "skip" not in targets[name]:
                targets[name].setdefault("notes", []).append(_cache_note(report["dictionary_cache"]))

    with tempfile.TemporaryDirectory(prefix="pinyin-edge-bench-") as work:
        spec = {"threads": cfg.threads, "batch_size": cfg.batch_size, "seed": cfg.seed,
                "max_seconds": plan.max_seconds, "accuracy_sentences": plan.accuracy_sentences,
                "data": [{"name": d["name"], "path": d["path"]} for d in data_entries],
                "inputs": inputs, "first_text": inputs["sentence"]["timed"][0],
                "targets": {n: {"model": t.get("model"), "policy_of": t.get("policy_of")}
                            for n, t in targets.items()}}
        spec_path = os.path.join(work, "spec.json")
        with open(spec_path, "w", encoding="utf-8") as handle:
            json.dump(spec, handle, ensure_ascii=False)
        # The cold-start worker reads only what it needs: its RSS stays the system's own.
        cold_path = os.path.join(work, "cold.json")
        with open(cold_path, "w", encoding="utf-8") as handle:
            json.dump({k: spec[k] for k in ("threads", "first_text", "targets")}, handle, ensure_ascii=False)
        for name in cfg.systems:
            report["systems"][name] = _bench_system(name, targets[name], spec_path, cold_path, cfg, plan, log)
        _more_speed_rounds(report, spec_path, cfg, plan, log)

    report["machine"]["loadavg_end"] = _loadavg()
    report["ratios"] = compute_ratios(report)
    report["targets"] = check_targets(report)
    report["wall_s"] = round(time.perf_counter() - started, 1)
    write_outputs(report, cfg.out, plot=cfg.plot, log=log)
    log(f"done in {report['wall_s']:.0f} s: {os.path.join(cfg.out, 'bench.json')}")
    return report


def _input_stats(texts: Sequence[str]) -> Dict[str, Any]:
    lengths = [len(t) for t in texts]
    return {"count": len(texts), "chars_min": min(lengths), "chars_max": max(lengths),
            "chars_mean": round(sum(lengths) / len(lengths), 1)}


def prepare_dictionary_cache(log: Log) -> Dict[str, Any]:
    """Make sure pypinyin's compiled dictionaries are cached (as after any first use), and time a
    compile from scratch: the one-off cost of the first process after an install."""
    from ..dictionaries import cache_path, dictionaries

    path = cache_path()
    existed = bool(path) and os.path.isfile(path)
    dictionaries()  # reads the cache, or compiles and writes it
    # A fresh process, pypinyin's import included: what the first start after an install pays.
    probe = ("import time; t = time.perf_counter(); from pinyin_edge.dictionaries import compile_dictionaries; "
             "compile_dictionaries(); print(time.perf_counter() - t)")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    compile_s = float(proc.stdout.split()[-1]) if proc.returncode == 0 and proc.stdout.split() else None
    if compile_s is None:
        log(f"dictionary cache: timing a compile failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}")
    log(f"dictionary cache: {path or 'off'} ({'present' if existed else 'written now'}; "
        f"a compile from scratch takes {_seconds(compile_s)})")
    return {"path": path, "present_before": existed, "compile_s": None if compile_s is None else round(compile_s, 3),
            "what": "pypinyin's dictionaries compiled by pinyin-edge once per install and cached; every "
                    "edge process measured here loads the cache instead of importing pypinyin"}


def _seconds(value: Optional[float]) -> str:
    return "an unmeasured time" if value is None else f"{value:.2f} s"


def _cache_note(cache: Dict[str, Any]) -> str:
    if not cache.get("path"):
        return f"dictionary cache off: every process compiles pypinyin's tables ({_seconds(cache['compile_s'])})"
    return (f"cold start loads pypinyin's dictionaries from pinyin-edge's cache; the first process after an "
            f"install compiles them once ({_seconds(cache['compile_s'])} more, in a fresh process)")


def _bench_system(name: str, target: Dict[str, Any], spec_path: str, cold_path: str, cfg: BenchConfig,
                  plan: Plan, log: Log) -> Dict[str, Any]:
    entry: Dict[str, Any] = {"label": target.get("label", name), "notes": list(target.get("notes", []))}
    for key in ("model", "manifest", "size"):
        if key in target:
            entry[key] = target[key]
    if "skip" in target:
        log(f"{name}: skipped: {target['skip']}")
        return {"status": "skipped", "reason": target["skip"], **entry}

    cold_runs = []
    for run in range(plan.cold_runs):
        log(f"{name}: cold start {run + 1}/{plan.cold_runs} (fresh process)")
        result = run_worker("cold", cold_path, name, cfg.threads, plan.worker_timeout)
        if result.get("status") != "ok":
            log(f"{name}: {result['status']}: {result['reason']}")
            return {**result, **entry}
        cold_runs.append(result)
    cold = summarise_cold(cold_runs)
    log(f"{name}: cold start {cold['total_s']:.3f} s (import {cold['import_s']:.3f} + load {cold['load_s']:.3f} "
        f"+ first call {cold['first_call_s']:.3f}), peak RSS {cold['peak_rss_mb']:.0f} MB")

    log(f"{name}: latency, throughput, accuracy (fresh process)")
    measured = run_worker("measure", spec_path, name, cfg.threads, plan.worker_timeout)
    if measured.get("status") != "ok":
        log(f"{name}: {measured['status']}: {measured['reason']}")
        return {**measured, **entry, "cold_start": cold}

    first = speed_figures(measured)
    native = name not in BASELINES
    batched = {**first["batched"], "batch_size": cfg.batch_size, "native_batching": native}
    if not native:
        batched["note"] = f"{entry['label']} has no batch API: this is its per-sentence loop"
    return {"status": "ok", **entry,
            "accuracy": {a["name"]: a for a in measured["accuracy"]},
            "latency_ms": {kind: dict(stats) for kind, stats in first["latency_ms"].items()},  # copies:
            "throughput": {"batch1": dict(first["batch1"]), "batched": batched},  # the rounds stay as measured
            "speed_rounds": [first],
            "cold_start": cold,
            "rss_mb": {"loaded": measured["loaded_rss_mb"], "after_latency": measured["rss_after_latency_mb"],
                       "end": measured["rss_end_mb"], "cold_start": cold.get("peak_rss_mb"),
                       "vm_hwm_after_latency": measured.get("vm_hwm_after_latency_mb"),
                       "interpreter_baseline": cold.get("base_rss_mb"),
                       "what": "peak RSS (ru_maxrss) of the system's own process: loaded = after loading, "
                               "after_latency = after the batch-1 latency runs, end = after batched "
                               "throughput and accuracy; interpreter_baseline = the bare worker process"},
            "measure_process_wall_s": round(measured.get("process_wall_s", 0.0), 2)}


def speed_figures(measured: Dict[str, Any]) -> Dict[str, Any]:
    """One timing round's figures from a measure/speed worker's result."""
    sent = measured["latency_samples_ms"]["sentence"]
    sent_seconds = sum(sent) / 1000
    return {"latency_ms": {kind: latency_stats(measured["latency_samples_ms"][kind]) for kind in KINDS},
            "batch1": {"chars_per_s": round(measured["latency_chars"]["sentence"] / sent_seconds, 1),
                       "sentences_per_s": round(len(sent) / sent_seconds, 1),
                       "source": "the batch-1 sentence latency run"},
            "batched": measured["batched"]}


def _more_speed_rounds(report: Dict[str, Any], spec_path: str, cfg: BenchConfig, plan: Plan, log: Log) -> None:
    """Timing rounds 2..N, each system in a fresh process, the order rotating from round to round:
    the machine's drift (this one moved 20-30% between runs) then lands on every system alike, and
    each figure becomes the best over the rounds (:func:`combine_speed_rounds`)."""
    names = [n for n in cfg.systems if report["systems"][n].get("status") == "ok"]
    for round_index in range(1, plan.speed_rounds):
        shift = round_index % max(len(names), 1)
        for name in names[shift:] + names[:shift]:
            log(f"{name}: timing round {round_index + 1}/{plan.speed_rounds} (fresh process)")
            measured = run_worker("speed", spec_path, name, cfg.threads, plan.worker_timeout)
            system = report["systems"][name]
            if measured.get("status") != "ok":
                log(f"{name}: timing round {round_index + 1}: {measured['status']}: {measured['reason']}")
                system["notes"].append(f"timing round {round_index + 1} {measured['status']}: {measured['reason']}")
                continue
            system["speed_rounds"].append(speed_figures(measured))
    for name in names:
        combine_speed_rounds(report["systems"][name])


def combine_speed_rounds(system: Dict[str, Any]) -> None:
    """Each latency statistic and throughput becomes its best over the system's timing rounds (the
    lowest p50, the lowest p95, ..., the highest chars/s), each statistic on its own; the medians
    over the rounds are kept under ``median_of_rounds``. ``n`` is the samples of all rounds together.

    Why the best: on a shared machine interference only ever slows a round down, by up to 2x here
    (pypinyin's batched rounds of one run: 46.6k, 64.2k, 84.9k chars/s), so the least disturbed
    round is the most repeatable figure (as ``timeit`` takes the minimum). Over three full runs
    (session 6) the median-based edge/pypinyin batched ratio read 0.79, 0.72 and 0.43; the
    best-round one 0.61, 0.68 and 0.71."""
    rounds = system.get("speed_rounds") or []
    if len(rounds) < 2:
        return
    medians: Dict[str, Any] = {"latency_ms": {}, "throughput": {}}
    for kind in KINDS:
        per_round = [r["latency_ms"][kind] for r in rounds]
        keys = [k for k in per_round[0] if k != "n" and all(k in s for s in per_round)]
        system["latency_ms"][kind] = {"n": sum(s["n"] for s in per_round),
                                      **{k: round(min(s[k] for s in per_round), 5) for k in keys}}
        medians["latency_ms"][kind] = {k: round(_median([s[k] for s in per_round]), 5) for k in keys}
    for mode in ("batch1", "batched"):
        figure = system["throughput"][mode]
        for key in ("chars_per_s", "sentences_per_s"):
            values = [r[mode].get(key) for r in rounds]
            if all(v is not None for v in values):
                figure[key] = round(max(values), 1)
                medians["throughput"].setdefault(mode, {})[key] = round(_median(values), 1)
        figure["rounds_chars_per_s"] = [r[mode].get("chars_per_s") for r in rounds]
    system["median_of_rounds"] = medians


# --------------------------------------------------------------------------------------- derived figures

def _ok(report: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    return {n: s for n, s in report["systems"].items() if s.get("status") == "ok"}


def _get(system: Dict[str, Any], *path: str) -> Optional[float]:
    value: Any = system
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value if isinstance(value, (int, float)) else None


def compute_ratios(report: Dict[str, Any]) -> Dict[str, Dict[str, Dict[str, Optional[float]]]]:
    """Every system against pypinyin and g2pM, all figures from this run.

    Throughput ratios: higher is faster; latency ratios: lower is faster; accuracy: points difference."""
    ok = _ok(report)
    primary = report["data"][0]["name"] if report.get("data") else None
    out: Dict[str, Dict[str, Dict[str, Optional[float]]]] = {}
    for name, system in ok.items():
        for base in BASELINES:
            if base == name or base not in ok:
                continue
            other = ok[base]

            def ratio(*path: str) -> Optional[float]:
                a, b = _get(system, *path), _get(other, *path)
                return round(a / b, 3) if a is not None and b else None

            acc_a = _get(system, "accuracy", primary, "accuracy") if primary else None
            acc_b = _get(other, "accuracy", primary, "accuracy") if primary else None
            out.setdefault(name, {})[base] = {
                "batched_throughput": ratio("throughput", "batched", "chars_per_s"),
                "batch1_throughput": ratio("throughput", "batch1", "chars_per_s"),
                "p50_sentence_latency": ratio("latency_ms", "sentence", "p50"),
                "p50_ime_latency": ratio("latency_ms", "ime", "p50"),
                "accuracy_points": round(100 * (acc_a - acc_b), 2) if acc_a is not None and acc_b is not None
                else None,
            }
    return out


def check_targets(report: Dict[str, Any]) -> List[Dict[str, Any]]:
    """DESIGN.md's targets for the shipped model, checked on the ``edge`` system of this run."""
    edge = report["systems"].get("edge")
    if not edge or edge.get("status") != "ok":
        return []
    ok = _ok(report)
    rows: List[Dict[str, Any]] = []

    def row(name: str, target: str, value: Optional[float], met: Optional[bool], shown: str) -> None:
        rows.append({"name": name, "target": target, "value": value, "met": met, "shown": shown})

    accuracy = edge.get("accuracy", {})
    for data_key, acc in accuracy.items():
        sample = " (sample)" if acc.get("sampled") else ""
        if data_key.endswith("cpp/test"):
            value = acc["accuracy"]
            row("CPP test accuracy" + sample, f"> {100 * TARGETS['cpp_accuracy']:.2f} (g2pW); milestone > "
                f"{100 * TARGETS['cpp_milestone']:.2f} (g2pM)", value, value > TARGETS["cpp_accuracy"],
                f"{100 * value:.2f}" + (" (milestone met)" if value > TARGETS["cpp_milestone"] else ""))
        if data_key.endswith("g2pl/test"):
            value = acc["accuracy"]
            row("g2pL test accuracy" + sample, f">= {100 * TARGETS['g2pl_accuracy']:.0f}", value,
                value >= TARGETS["g2pl_accuracy"], f"{100 * value:.2f}")
    size = _get(edge, "size", "bytes")
    if size is not None:
        row("bundle size", f"< {TARGETS['bundle_mb']:.0f} MB", size / 1e6, size / 1e6 < TARGETS["bundle_mb"],
            f"{size / 1e6:.2f} MB")
    if "pypinyin" in ok:
        ours, theirs = _get(edge, "throughput", "batched", "chars_per_s"), \
            _get(ok["pypinyin"], "throughput", "batched", "chars_per_s")
        if ours and theirs:
            ratio = round(ours / theirs, 3)  # as compute_ratios rounds it: one figure everywhere
            row("batched throughput", ">= pypinyin's (same run)", ratio, ours >= theirs, f"{ratio:.2f}x pypinyin")
    p50 = _get(edge, "latency_ms", "sentence", "p50")
    if p50 is not None:
        row("p50 latency, sentence, batch 1", f"<= {TARGETS['p50_ms']} ms", p50, p50 <= TARGETS["p50_ms"],
            f"{p50:.3f} ms")
        scaled = {name: (p50 / theirs, TARGETS["p50_ms"] / DESIGN_P50_MS[name]) for name in DESIGN_P50_MS
                  if (theirs := _get(ok.get(name, {}), "latency_ms", "sentence", "p50"))}
        if scaled:
            row("p50 latency as ratios (DESIGN.md's baselines: " +
                ", ".join(f"{n} {DESIGN_P50_MS[n]} ms" for n in scaled) + ")",
                ", ".join(f"<= {limit:.2f}x {n}'s" for n, (_, limit) in scaled.items()) + " (same run)",
                max(r / limit for r, limit in scaled.values()),
                all(r <= limit for r, limit in scaled.values()),
                ", ".join(f"{r:.2f}x {n}'s" for n, (r, _) in scaled.items()))
    if "torch" in ok:
        for data_key, acc in accuracy.items():
            theirs = _get(ok["torch"], "accuracy", data_key, "accuracy")
            if theirs is not None:
                drop = 100 * (theirs - acc["accuracy"])
                sample = " (sample)" if acc.get("sampled") else ""
                row(f"{edge.get('label', 'edge')} vs PyTorch on {data_key}{sample}",
                    f"within {TARGETS['int8_drop_points']} points", drop,
                    abs(drop) <= TARGETS["int8_drop_points"] + 1e-9, f"{-drop:+.2f} points")
    cold = _get(edge, "cold_start", "total_s")
    if cold is not None:
        row("import + load + first call", f"< {TARGETS['cold_start_s']} s", cold, cold < TARGETS["cold_start_s"],
            f"{cold:.3f} s")
    rss = _get(edge, "rss_mb", "after_latency")
    if rss is not None:
        row("RSS after the latency runs", f"< {TARGETS['rss_mb']:.0f} MB", rss, rss < TARGETS["rss_mb"],
            f"{rss:.0f} MB")
    return rows


# --------------------------------------------------------------------------------------- rendering

def _ms(value: Optional[float]) -> str:
    if value is None:
        return "-"
    if value < 1:
        return f"{value:.3f}"
    if value < 10:
        return f"{value:.2f}"
    return f"{value:.1f}"


def _num(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _x(value: Optional[float]) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}x" if value < 10 else f"{value:.1f}x"


def render_markdown(report: Dict[str, Any]) -> str:
    data_names = [d["name"] for d in report.get("data", [])]
    settings = report["settings"]
    machine = report["machine"]
    lines = ["# pinyin-edge benchmark", ""]
    mode = "quick (sampled)" if settings.get("quick") else "full"
    lines.append(f"{report['created']} · {mode} · {settings['threads']} thread(s) · "
                 f"{machine.get('cpu_model') or 'unknown CPU'} ({machine.get('usable_cpus')} usable cores)")
    lines += ["", f"Command: `{report['command']}`", ""]

    header = ["system"] + [f"acc {n} %" for n in data_names]
    for kind in KINDS:
        header += [f"{kind} p50 ms", f"{kind} p95 ms"]
    header += ["chars/s b1", "chars/s batched", "sent/s batched", "cold start s", "RSS MB", "size MB"]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
    skipped = []
    for name, system in report["systems"].items():
        if system.get("status") != "ok":
            skipped.append((name, system))
            continue
        cells = [system.get("label", name)]
        for n in data_names:
            acc = _get(system, "accuracy", n, "accuracy")
            cells.append("-" if acc is None else f"{100 * acc:.2f}")
        for kind in KINDS:
            cells += [_ms(_get(system, "latency_ms", kind, "p50")), _ms(_get(system, "latency_ms", kind, "p95"))]
        batched = _num(_get(system, "throughput", "batched", "chars_per_s"))
        if not _get_bool(system, "throughput", "batched", "native_batching"):
            batched += " *"
        size = _get(system, "size", "bytes")
        cells += [_num(_get(system, "throughput", "batch1", "chars_per_s")), batched,
                  _num(_get(system, "throughput", "batched", "sentences_per_s")),
                  "-" if _get(system, "cold_start", "total_s") is None
                  else f"{_get(system, 'cold_start', 'total_s'):.2f}",
                  _num(_get(system, "rss_mb", "after_latency")),
                  "-" if size is None else f"{size / 1e6:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("\\* no batch API: the batched figure is the system's per-sentence loop.")
    lines.append("")
    lines.append("Latency: batch 1, after warm-up, one call per input "
                 + "; ".join(f"{KIND_LABELS[k]} (n={report['inputs'][k]['count']}, "
                             f"mean {report['inputs'][k]['chars_mean']:.0f} chars)" for k in KINDS)
                 + ". Cold start: import + load + first call in a fresh process (median of "
                 + f"{settings['plan']['cold_runs']}). RSS: peak RSS of the process that ran the latency runs "
                 + "(each system in its own process). Size: "
                 + "; ".join(f"{s.get('label', n)}: {s['size']['what']}" for n, s in report["systems"].items()
                             if s.get("size")) + ".")
    rounds = settings["plan"].get("speed_rounds", 1)
    if rounds > 1:
        spread = []
        for name, system in report["systems"].items():
            per_round = system.get("speed_rounds") or []
            if system.get("status") != "ok" or len(per_round) < 2:
                continue
            p50s = [r["latency_ms"]["sentence"]["p50"] for r in per_round]
            rates = [r["batched"]["chars_per_s"] or 0 for r in per_round]
            spread.append(f"{system.get('label', name)} sentence p50 {_ms(min(p50s))}-{_ms(max(p50s))} ms, "
                          f"batched {_num(min(rates))}-{_num(max(rates))} chars/s")
        lines.append(f"Latency and throughput: the best of {rounds} timing rounds per system (each statistic "
                     "on its own: the lowest p50, the highest chars/s; interference on this shared machine "
                     "only slows a round down, so the least disturbed round repeats best; medians are in "
                     "the JSON under `median_of_rounds`), each round in a fresh process, the systems taking "
                     "turns (round 1 system by system, then rotating). Round-to-round range: "
                     + "; ".join(spread) + ".")
    lines.append("Accuracy: " + "; ".join(
        f"{d['name']}: {d['scored_sentences']:,} of {d['sentences']:,} sentences"
        + (f" (a fixed sample, seed {settings['seed']})" if d["scored_sentences"] < d["sentences"] else "")
        for d in report.get("data", [])) + ", scored by the `eval` code path.")
    lines.append("")

    if skipped:
        lines.append("Not measured:")
        for name, system in skipped:
            lines.append(f"- {system.get('label', name)}: {system['status']}: {system.get('reason')}")
        lines.append("")

    ratios = report.get("ratios", {})
    if ratios:
        lines += ["## Ratios (same run)", ""]
        names = {"pypinyin": "pypinyin", "g2pm": "g2pM"}
        for name, against in ratios.items():
            label = report["systems"][name].get("label", name)
            parts_tp, parts_b1, parts_lat, parts_acc = [], [], [], []
            for base, r in against.items():
                parts_tp.append(f"{_x(r['batched_throughput'])} {names[base]}")
                parts_b1.append(f"{_x(r['batch1_throughput'])} {names[base]}")
                parts_lat.append(f"{_x(r['p50_sentence_latency'])} {names[base]}'s")
                if r.get("accuracy_points") is not None:
                    parts_acc.append(f"{r['accuracy_points']:+.2f} vs {names[base]}")
            line = (f"- **{label}**: {', '.join(parts_tp)} throughput (batched); {', '.join(parts_b1)} at batch 1; "
                    f"p50 sentence latency {', '.join(parts_lat)}")
            if parts_acc and data_names:
                line += f"; accuracy on {data_names[0]} (points) {', '.join(parts_acc)}"
            lines.append(line)
        lines.append("")

    targets = report.get("targets") or []
    if targets:
        lines += ["## Targets (DESIGN.md), edge system", "", "| target | wanted | measured | met |",
                  "|---|---|---|---|"]
        for t in targets:
            met = "-" if t["met"] is None else ("yes" if t["met"] else "**no**")
            lines.append(f"| {t['name']} | {t['target']} | {t['shown']} | {met} |")
        lines.append("")

    notes = [(s.get("label", n), note) for n, s in report["systems"].items() for note in s.get("notes", [])]
    if notes:
        lines += ["## Notes", ""] + [f"- {label}: {note}" for label, note in notes] + [""]

    lines += ["## Machine and versions", ""]
    lines.append(f"- CPU: {machine.get('cpu_model')}, {machine.get('logical_cpus')} logical / "
                 f"{machine.get('usable_cpus')} usable cores"
                 + (f", flags: {' '.join(machine['cpu_flags'])}" if machine.get("cpu_flags") else "")
                 + (f", {machine['memory_mb']:,} MB RAM" if machine.get("memory_mb") else ""))
    lines.append(f"- load average at start / end: {machine.get('loadavg_start')} / {machine.get('loadavg_end')}")
    lines.append(f"- {machine.get('platform')}")
    lines.append("- " + ", ".join(f"{k} {v}" for k, v in report["versions"].items() if v))
    missing = [k for k, v in report["versions"].items() if not v]
    if missing:
        lines.append(f"- not installed: {', '.join(missing)}")
    git = report.get("git")
    if git:
        lines.append(f"- git {git['commit'][:12]}{' (uncommitted changes)' if git.get('dirty') else ''}")
    for name, system in report["systems"].items():
        manifest = system.get("manifest")
        if manifest:
            lines.append(f"- {system.get('label', name)} bundle: sha256 {manifest['graph_sha256'][:16]}..."
                         f"{'' if manifest.get('sha256_matches') else ' (MISMATCH)'}, "
                         f"{(manifest.get('graph_bytes') or 0) / 1e6:.2f} MB, quantization "
                         f"{json.dumps(manifest.get('quantization'), sort_keys=True)}")
    lines.append(f"- total wall time {report.get('wall_s', 0):.0f} s")
    if report.get("outputs", {}).get("plot_skipped"):
        lines.append(f"- plot skipped: {report['outputs']['plot_skipped']}")
    lines.append("")
    return "\n".join(lines)


def _get_bool(system: Dict[str, Any], *path: str) -> bool:
    value: Any = system
    for key in path:
        if not isinstance(value, dict):
            return False
        value = value.get(key)
    return bool(value)


def render_png(report: Dict[str, Any], path: str) -> None:
    """Two panels: accuracy vs p50 sentence latency, and the sentence latency distributions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = _ok(report)
    primary = report["data"][0]["name"] if report.get("data") else None
    names = [n for n in ok if _get(ok[n], "latency_ms", "sentence", "p50") is not None]
    colors = {n: plt.get_cmap("tab10")(i % 10) for i, n in enumerate(names)}
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.2), gridspec_kw={"width_ratios": [1, 1.15]})

    left.axvline(TARGETS["p50_ms"], color="grey", linestyle="--", linewidth=1)
    left.text(TARGETS["p50_ms"], 0.01, f" target: p50 <= {TARGETS['p50_ms']} ms", va="bottom", ha="left",
              transform=left.get_xaxis_transform(), fontsize=8, color="grey")
    points = []
    for name in names:
        system = ok[name]
        x = _get(system, "latency_ms", "sentence", "p50")
        y = _get(system, "accuracy", primary, "accuracy")
        if y is not None:
            points.append((name, x, 100 * y))
            left.scatter([x], [100 * y], s=70, color=colors[name], zorder=3, edgecolor="black", linewidth=0.5,
                         label=system.get("label", name))
    left.set_xscale("log")
    # plain numbers: a narrow log axis otherwise labels its minor ticks "3x10^-1" on top of each other
    from matplotlib.ticker import LogLocator, NullFormatter, StrMethodFormatter
    left.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    left.xaxis.set_major_formatter(StrMethodFormatter("{x:g}"))
    left.xaxis.set_minor_formatter(NullFormatter())
    left.set_xlabel("p50 latency per sentence, batch 1 (ms, log scale)")
    sample = " (sample)" if any(_get_bool(ok[n], "accuracy", primary, "sampled") for n in names) else ""
    left.set_ylabel(f"accuracy on {primary}{sample} (%)")
    left.set_title("accuracy vs latency (up and left is better)", fontsize=10)
    left.grid(True, which="both", alpha=0.3)
    left.margins(x=0.4, y=0.18)

    stats = []
    for name in names:
        lat = ok[name]["latency_ms"]["sentence"]
        stats.append({"label": ok[name].get("label", name), "med": lat["p50"], "q1": lat["p25"],
                      "q3": lat["p75"], "whislo": lat["p5"], "whishi": lat["p95"], "fliers": []})
    if stats:
        options = dict(showfliers=False, patch_artist=True, widths=0.55, medianprops={"color": "black"})
        if _bxp_takes_orientation():
            options["orientation"] = "horizontal"
        else:
            options["vert"] = False
        boxes = right.bxp(stats, **options)
        for patch, name in zip(boxes["boxes"], names):
            patch.set_facecolor(colors[name])
            patch.set_alpha(0.6)
        for i, name in enumerate(names, 1):
            lat = ok[name]["latency_ms"]["sentence"]
            right.scatter([lat["p99"]], [i], marker="x", color="black", zorder=3,
                          label="p99" if i == 1 else None)
            right.annotate(f"p50 {_ms(lat['p50'])} · p95 {_ms(lat['p95'])} · p99 {_ms(lat['p99'])}",
                           (lat["p99"], i), textcoords="offset points", xytext=(8, -3), fontsize=8)
        right.set_xscale("log")
        right.margins(x=0.45)
        right.invert_yaxis()  # first system on top, as in the table
        right.legend(loc="upper right", fontsize=8)
    right.set_xlabel("latency per sentence, batch 1 (ms, log scale)")
    info = report["inputs"]["sentence"]
    right.set_title(f"latency on {primary} sentences (n={info['count']}, mean {info['chars_mean']:.0f} chars)\n"
                    "box p25-p75, line p50, whiskers p5-p95, x p99", fontsize=10)
    right.grid(True, axis="x", which="both", alpha=0.3)

    machine = report["machine"]
    fig.suptitle(f"pinyin-edge bench{' --quick' if report['settings'].get('quick') else ''} · "
                 f"{machine.get('cpu_model') or 'CPU'} · {report['settings']['threads']} thread(s) · "
                 f"{report['created'][:10]}", fontsize=11)
    fig.tight_layout()
    fig.canvas.draw()  # final limits and layout first, so that label boxes are where they will be drawn
    _place_labels(fig, left, [(f"{ok[n].get('label', n)}\n{y:.2f}%, {_ms(x)} ms", x, y) for n, x, y in points])
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _place_labels(fig, ax, labels: Sequence[Tuple[str, float, float]]) -> None:
    """Annotate points, trying a few offsets per label so that no two labels overlap."""
    renderer = fig.canvas.get_renderer()
    placed = []
    offsets = [((8, 4), "left", "bottom"), ((8, -6), "left", "top"), ((-8, 4), "right", "bottom"),
               ((-8, -6), "right", "top"), ((8, 18), "left", "bottom"), ((8, -20), "left", "top")]
    for text, x, y in labels:
        annotation = None
        for offset, ha, va in offsets:
            if annotation is not None:
                annotation.remove()
            annotation = ax.annotate(text, (x, y), textcoords="offset points", xytext=offset, ha=ha, va=va,
                                     fontsize=8.5)
            box = annotation.get_window_extent(renderer)
            if not any(box.overlaps(other) for other in placed):
                break
        placed.append(annotation.get_window_extent(renderer))


def _bxp_takes_orientation() -> bool:
    import inspect

    import matplotlib.axes

    try:
        return "orientation" in inspect.signature(matplotlib.axes.Axes.bxp).parameters
    except (TypeError, ValueError):
        return False


def write_outputs(report: Dict[str, Any], out: str, plot: bool = True, log: Log = _default_log) -> None:
    """bench.json, then bench.png (when matplotlib is there) and bench.md, all from the report."""
    os.makedirs(out, exist_ok=True)
    outputs: Dict[str, Any] = {"json": "bench.json", "markdown": "bench.md", "png": None}
    if plot:
        try:
            render_png(report, os.path.join(out, "bench.png"))
            outputs["png"] = "bench.png"
        except ImportError as exc:
            outputs["plot_skipped"] = f"matplotlib is not installed ({exc.name}): pip install 'pinyin-edge[bench]'"
            log(f"plot skipped: {outputs['plot_skipped']}")
    else:
        outputs["plot_skipped"] = "plotting turned off"
    report["outputs"] = outputs
    with open(os.path.join(out, "bench.json"), "w", encoding="utf-8") as handle:
        json.dump(report, handle, ensure_ascii=False, indent=1)
        handle.write("\n")
    with open(os.path.join(out, "bench.md"), "w", encoding="utf-8") as handle:
        handle.write(render_markdown(report))


def render_dir(out: str) -> None:
    """Re-render bench.md and bench.png from an existing bench.json."""
    with open(os.path.join(out, "bench.json"), encoding="utf-8") as handle:
        report = json.load(handle)
    report["targets"] = check_targets(report)  # derived from the measurements: follows this code's targets
    write_outputs(report, out)


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["worker"] and len(argv) == 5:
        return worker_main(argv[1:])
    if argv[:1] == ["render"] and len(argv) == 2:
        render_dir(argv[1])
        return 0
    print("usage: python -m pinyin_edge.evaluation.bench render DIR   (the benchmark itself: pinyin-edge bench)",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
