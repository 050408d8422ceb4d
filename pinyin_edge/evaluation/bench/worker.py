"""The Python timing worker: one system, one measurement, in a process that has done nothing else.

``python -m pinyin_edge.evaluation.bench worker cold|measure|speed SPEC OUT NAME`` writes its result
as JSON to OUT. Only the standard library is imported at module level: the worker measures its own
imports. The node peers have the same worker in ``node_worker.js``.
"""
from __future__ import annotations

import json
import sys
import time
from typing import Any, Callable, Dict, List, Sequence, Tuple

from .inputs import KIND_LABELS, KINDS, scored_examples
from .machine import peak_rss_mb, rss_now_mb
from .stats import latency_stats

# What each system imports first: the "import" part of its cold start.
ENGINE_MODULES = {"edge": "pinyin_edge.runtime.g2p", "edge-fp32": "pinyin_edge.runtime.g2p",
                  "torch": "pinyin_edge.modeling.scorer", "pypinyin": "pypinyin", "g2pm": "g2pM"}

Log = Callable[[str], None]


def _set_torch_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set, or parallel work already started
        pass


def build_system(name: str, model, threads: int, policy_of=None):
    """The evaluation system behind a bench name (``edge-fp32`` is the edge runtime on another bundle)."""
    from ..systems import make_system

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
    for each new (batch, length) shape, and one warm-up batch left the timed figure 20-30% low."""
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
    from ...bundle import BundleError
    from ..systems import SystemUnavailable

    return isinstance(exc, (SystemUnavailable, ImportError, FileNotFoundError, BundleError)) or \
        type(exc).__name__ == "CheckpointError"


def worker_error(exc: BaseException) -> Dict[str, Any]:
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
    base_rss = peak_rss_mb()
    target = spec["systems"][name]
    try:
        importlib.import_module(ENGINE_MODULES[name])
        imported = time.perf_counter()
        system = build_system(name, target.get("model"), spec["threads"], target.get("policy_of"))
        loaded = time.perf_counter()
        single_call(system)(spec["first_text"])
        done = time.perf_counter()
    except Exception as exc:  # noqa: BLE001 - reported, never raised
        return worker_error(exc)
    return {"status": "ok", "import_s": imported - began, "load_s": loaded - imported,
            "first_call_s": done - loaded, "total_s": done - began, "peak_rss_mb": peak_rss_mb(),
            "base_rss_mb": base_rss}


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
    result["rss_after_latency_mb"] = peak_rss_mb()
    result["batched"] = time_batched(system, spec["inputs"]["sentence"]["timed"], spec["batch_size"],
                                     spec["max_seconds"])
    result["rss_after_speed_mb"] = peak_rss_mb()
    result["rss_now_mb"] = rss_now_mb()
    log(f"batched ({spec['batch_size']}): {result['batched']['chars_per_s'] or 0:,.0f} chars/s")


def worker_measure(spec: Dict[str, Any], name: str, with_accuracy: bool = True) -> Dict[str, Any]:
    """Latency per input kind, peak RSS, batched throughput, then (``with_accuracy``) accuracy through
    the eval code path. Without accuracy it is one more timing round (the ``speed`` worker)."""
    log = lambda message: print(f"[bench] {name}: {message}", file=sys.stderr, flush=True)  # noqa: E731
    target = spec["systems"][name]
    try:
        system = build_system(name, target.get("model"), spec["threads"], target.get("policy_of"))
    except Exception as exc:  # noqa: BLE001
        return worker_error(exc)
    result: Dict[str, Any] = {"status": "ok", "loaded_rss_mb": peak_rss_mb()}
    try:
        _time_system(system, spec, result, log)
        if with_accuracy and spec["data"]:
            result["accuracy"] = _accuracy(system, spec, log)
        result["rss_end_mb"] = peak_rss_mb()
    except Exception as exc:  # noqa: BLE001
        failure = worker_error(exc)
        failure["status"] = "failed"
        return failure
    return result


def _accuracy(system, spec: Dict[str, Any], log: Log) -> List[Dict[str, Any]]:
    from .accuracy import score

    out = []
    for entry in spec["data"]:
        dataset, sampled = scored_examples(entry["path"], spec["accuracy_sentences"], spec["seed"])
        figures = score(system, dataset, entry, spec["batch_size"], sampled)
        log(f"accuracy on {entry['name']}: {100 * figures['accuracy']:.2f}% "
            f"({figures['correct']}/{figures['total']})")
        out.append(figures)
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
