"""The parent side of ``pinyin-edge bench``: draw the inputs, start each system's workers (each
measurement in a fresh process), interleave the timing rounds, and hand the report to the writers."""
from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence

from . import node as node_peers
from .catalog import NO_BATCH_API, SYSTEM_NAMES, cache_note, prepare_dictionary_cache, resolve_systems
from .inputs import FULL, KINDS, QUICK, Plan, build_inputs, data_name, input_stats, read_speed_text, scored_examples
from .machine import checkout_root, git_info, library_versions, loadavg, machine_info, package_root
from .stats import combine_speed_rounds, median, speed_figures

SCHEMA = "pinyin-edge-bench/2"
THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
              "VECLIB_MAXIMUM_THREADS")

Log = Callable[[str], None]


@dataclass
class BenchConfig:
    out: str
    data: List[str] = field(default_factory=list)  # labelled files; none: speed on the shipped text only
    systems: Sequence[str] = SYSTEM_NAMES
    model: Optional[str] = None        # int8 bundle; None: the bundle shipped in the package
    fp32_model: Optional[str] = None
    checkpoint: Optional[str] = None   # None: the bundle manifest's source checkpoint, if it exists
    threads: int = 1
    quick: bool = False
    batch_size: int = 64
    seed: int = 0
    targets: Optional[str] = None      # targets file; None: targets.default_targets_path()
    command: Optional[str] = None      # the command line to record; default: this process's argv
    plot: bool = True


def default_out() -> str:
    """``benchmarks/results`` of the checkout this runs from; ``bench-results`` here for a wheel."""
    root = checkout_root()
    return os.path.join(root, "benchmarks", "results") if root else "bench-results"


def _default_log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------- workers

def _worker_env(threads: int) -> Dict[str, str]:
    env = dict(os.environ)
    for key in THREAD_ENV:
        env[key] = str(threads)
    root = package_root()  # the workers import the same pinyin_edge as this process
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("PYTHONWARNINGS", None)
    return env


def worker_command(mode: str, spec_path: str, out_path: str, name: str) -> List[str]:
    """The worker's command line. On POSIX it goes through ``/bin/sh``, which *forks* the worker:
    Linux carries a process's peak RSS across ``exec`` (a child exec'd straight from this process would
    report this process's RSS as its own ``ru_maxrss``), and the small shell resets it."""
    if name in node_peers.NODE_SYSTEMS:
        command = node_peers.worker_command(mode, spec_path, out_path, name)
    else:
        command = [sys.executable, "-m", "pinyin_edge.evaluation.bench", "worker", mode, spec_path, out_path,
                   name]
    if os.name == "posix" and os.path.exists("/bin/sh"):
        return ["/bin/sh", "-c", '"$0" "$@"; exit $?'] + command
    return command


def run_worker(mode: str, spec_path: str, name: str, threads: int, timeout: float) -> Dict[str, Any]:
    """Run one worker subprocess (stderr passes through: its progress shows); returns its result."""
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


def summarise_cold(runs: List[Dict[str, Any]]) -> Dict[str, Any]:
    keys = ("import_s", "load_s", "first_call_s", "total_s", "startup_s", "process_wall_s", "peak_rss_mb",
            "base_rss_mb")
    out: Dict[str, Any] = {}
    for key in keys:
        value = median([r.get(key) for r in runs])
        if value is not None:
            out[key] = round(value, 4)
    out["runs"] = [{k: round(r[k], 4) for k in keys if r.get(k) is not None} for r in runs]
    return out


# --------------------------------------------------------------------------------------- the run

def run_bench(cfg: BenchConfig, plan: Optional[Plan] = None, log: Log = _default_log) -> Dict[str, Any]:
    """Run the whole benchmark; writes bench.json, bench.md (and bench.png) into ``cfg.out``."""
    from ...data import read_labelled
    from ...progress import Progress
    from .report import portable_paths, write_outputs
    from .targets import check_targets, compute_ratios, load_targets

    plan = plan or (QUICK if cfg.quick else FULL)
    started = time.perf_counter()
    unknown = [s for s in cfg.systems if s not in SYSTEM_NAMES]
    if unknown:
        raise ValueError(f"unknown system {unknown[0]!r}; choose from: {', '.join(SYSTEM_NAMES)}")
    targets_spec = load_targets(cfg.targets)
    data_entries, names = [], set()
    speed_texts: List[str] = []
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
        if not speed_texts:
            speed_texts = [ex.text for ex in dataset.examples]
    source = data_entries[0]["name"] if data_entries else "the speed text shipped in the package"
    if not speed_texts:
        speed_texts = read_speed_text()
    log("timing inputs from " + source + ("; accuracy on " + ", ".join(
        f"{d['name']} ({d['sentences']:,} sentences)" for d in data_entries) if data_entries
        else "; no --data: accuracy not measured"))
    inputs = build_inputs(speed_texts, plan, cfg.seed)
    node = node_peers.prepare(log) if any(n in node_peers.NODE_SYSTEMS for n in cfg.systems) else None
    systems = resolve_systems(cfg, log, node)

    report: Dict[str, Any] = {
        "schema": SCHEMA,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": cfg.command or ("pinyin-edge " + shlex.join(sys.argv[1:])
                                   if os.path.basename(sys.argv[0]).startswith("pinyin-edge")
                                   else shlex.join([os.path.basename(sys.executable)] + sys.argv)),
        "git": git_info(checkout_root()),
        "settings": {"quick": cfg.quick, "threads": cfg.threads, "batch_size": cfg.batch_size, "seed": cfg.seed,
                     "systems": list(cfg.systems), "plan": asdict(plan)},
        "machine": machine_info(),
        "versions": library_versions(),
        "data": data_entries,
        "inputs": {"source": source, **{kind: input_stats(inputs[kind]["timed"]) for kind in KINDS}},
        "targets_file": {"path": targets_spec["path"], "system": targets_spec.get("system", "edge"),
                         "targets": targets_spec["targets"]},
        "systems": {},
    }
    if node and "skip" not in node:
        report["versions"].update({"node": node["node"], **node["versions"]})
    report["machine"]["loadavg_start"] = loadavg()
    if any(n.startswith("edge") and "skip" not in systems[n] for n in cfg.systems):
        report["dictionary_cache"] = prepare_dictionary_cache(log, _worker_env(1))
        for name in cfg.systems:
            if name.startswith("edge") and "skip" not in systems[name]:
                systems[name]["notes"].append(cache_note(report["dictionary_cache"]))

    runnable = [n for n in cfg.systems if "skip" not in systems[n]]
    steps = len(runnable) * (plan.cold_runs + plan.speed_rounds)
    progress = Progress(steps, "bench", unit="steps", every=0, redraw=False)
    with tempfile.TemporaryDirectory(prefix="pinyin-edge-bench-") as work:
        spec = {"threads": cfg.threads, "batch_size": cfg.batch_size, "seed": cfg.seed,
                "max_seconds": plan.max_seconds, "accuracy_sentences": plan.accuracy_sentences,
                "data": [{"name": d["name"], "path": d["path"]} for d in data_entries],
                "inputs": inputs, "first_text": inputs["sentence"]["timed"][0],
                "systems": {n: {"model": t.get("model"), "policy_of": t.get("policy_of")}
                            for n, t in systems.items()}}
        paths = {"spec": os.path.join(work, "spec.json"), "cold": os.path.join(work, "cold.json")}
        _write_json(paths["spec"], spec)
        # The cold-start worker reads only what it needs: its RSS stays the system's own.
        cold = {k: spec[k] for k in ("threads", "first_text", "systems")}
        if node and "skip" not in node:
            cold["node_dir"] = node["dir"]
            paths["node_cold"] = os.path.join(work, "node-cold.json")
            _write_json(paths["node_cold"], cold)
            paths["node"], paths["node_texts"] = _node_spec(work, spec, node, plan, cfg.seed)
        _write_json(paths["cold"], cold)
        counter = _Steps(progress)
        for name in cfg.systems:
            report["systems"][name] = _bench_system(name, systems[name], paths, cfg, plan, counter, log)
        _more_speed_rounds(report, paths, cfg, plan, counter, log)
    progress.update(counter.done, "done", force=True)

    report["machine"]["loadavg_end"] = loadavg()
    report["ratios"] = compute_ratios(report)
    report["targets"] = check_targets(report, targets_spec)
    report["wall_s"] = round(time.perf_counter() - started, 1)
    portable_paths(report, checkout_root())
    write_outputs(report, cfg.out, plot=cfg.plot, log=log)
    log(f"done in {report['wall_s']:.0f} s: {os.path.join(cfg.out, 'bench.json')}")
    return report


class _Steps:
    """The run's progress: one line per worker started (progress.Progress, as every long job)."""

    def __init__(self, progress) -> None:
        self.progress, self.done = progress, 0

    def start(self, text: str) -> None:
        self.progress.update(self.done, text, force=True)

    def finish(self, count: int = 1) -> None:
        self.done += count


def _write_json(path: str, value: Any) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(value, handle, ensure_ascii=False)


def _node_spec(work: str, spec: Dict[str, Any], node: Dict[str, Any], plan: Plan, seed: int):
    """The node workers' spec: the same inputs, plus the texts to convert for accuracy (the node
    process returns their readings; they are scored here by the eval code path)."""
    texts = {}
    for entry in spec["data"]:
        dataset, _ = scored_examples(entry["path"], plan.accuracy_sentences, seed)
        texts.update(dict.fromkeys(ex.text for ex in dataset.examples))
    # A file of its own, read after the timing: the texts stay out of the figures' peak RSS.
    texts_path = os.path.join(work, "node-accuracy-texts.json")
    _write_json(texts_path, list(texts))
    path = os.path.join(work, "node-spec.json")
    _write_json(path, {**spec, "node_dir": node["dir"], "accuracy_texts": texts_path})
    return path, texts_path


def _spec_for(name: str, paths: Dict[str, str], cold: bool) -> str:
    if name in node_peers.NODE_SYSTEMS:
        return paths["node_cold" if cold else "node"]
    return paths["cold" if cold else "spec"]


def _node_accuracy(measured: Dict[str, Any], name: str, paths: Dict[str, str], cfg: BenchConfig,
                   plan: Plan, log: Log) -> List[Dict[str, Any]]:
    from .accuracy import Precomputed, score

    with open(paths["node_texts"], encoding="utf-8") as handle:
        texts = json.load(handle)
    table, misaligned = node_peers.readings_table(texts, measured.pop("readings", []))
    if misaligned:
        log(f"{name}: {misaligned} text(s) whose output did not line up with the characters (scored wrong)")
    system = Precomputed(name, table)
    out = []
    for entry in cfg.data:
        dataset, sampled = scored_examples(entry, plan.accuracy_sentences, cfg.seed)
        figures = score(system, dataset, {"name": data_name(entry), "path": os.path.abspath(entry)},
                        cfg.batch_size, sampled, timed=False)
        figures["misaligned_texts"] = misaligned
        log(f"{name}: accuracy on {figures['name']}: {100 * figures['accuracy']:.2f}%")
        out.append(figures)
    return out


def _bench_system(name: str, target: Dict[str, Any], paths: Dict[str, str], cfg: BenchConfig, plan: Plan,
                  steps: _Steps, log: Log) -> Dict[str, Any]:
    entry: Dict[str, Any] = {"label": target.get("label", name), "notes": list(target.get("notes", []))}
    for key in ("model", "manifest", "size"):
        if key in target:
            entry[key] = target[key]
    if "skip" in target:
        log(f"{name}: skipped: {target['skip']}")
        return {"status": "skipped", "reason": target["skip"], **entry}

    cold_runs = []
    for run in range(plan.cold_runs):
        steps.start(f"{name}: cold start {run + 1}/{plan.cold_runs} (fresh process)")
        result = run_worker("cold", _spec_for(name, paths, cold=True), name, cfg.threads, plan.worker_timeout)
        steps.finish()
        if result.get("status") != "ok":
            log(f"{name}: {result['status']}: {result['reason']}")
            steps.finish(plan.cold_runs - run - 1 + plan.speed_rounds)
            return {**result, **entry}
        cold_runs.append(result)
    cold = summarise_cold(cold_runs)
    log(f"{name}: cold start {cold['total_s']:.3f} s (import {cold['import_s']:.3f} + load {cold['load_s']:.3f} "
        f"+ first call {cold['first_call_s']:.3f}), peak RSS {cold['peak_rss_mb']:.0f} MB")

    steps.start(f"{name}: latency, throughput" + (", accuracy" if cfg.data else "") + " (fresh process)")
    measured = run_worker("measure", _spec_for(name, paths, cold=False), name, cfg.threads, plan.worker_timeout)
    steps.finish()
    if measured.get("status") != "ok":
        log(f"{name}: {measured['status']}: {measured['reason']}")
        steps.finish(plan.speed_rounds - 1)
        return {**measured, **entry, "cold_start": cold}
    if name in node_peers.NODE_SYSTEMS:
        measured["accuracy"] = _node_accuracy(measured, name, paths, cfg, plan, log) if cfg.data else []

    first = speed_figures(measured)
    native = name not in NO_BATCH_API
    batched = {**first["batched"], "batch_size": cfg.batch_size, "native_batching": native}
    return {"status": "ok", **entry,
            "accuracy": {a["name"]: a for a in measured.get("accuracy", [])},
            "latency_ms": {kind: dict(stats) for kind, stats in first["latency_ms"].items()},  # copies:
            "throughput": {"batch1": dict(first["batch1"]), "ime": dict(first["ime"]),  # rounds stay as measured
                           "batched": batched},
            "speed_rounds": [first],
            "cold_start": cold,
            "rss_mb": {"loaded": measured["loaded_rss_mb"], "after_latency": measured["rss_after_latency_mb"],
                       "after_speed": measured["rss_after_speed_mb"], "end": measured["rss_end_mb"],
                       "resident_after_speed": measured.get("rss_now_mb"),
                       "cold_start": cold.get("peak_rss_mb"), "interpreter_baseline": cold.get("base_rss_mb"),
                       "what": "peak RSS (ru_maxrss; node: resourceUsage().maxRSS) of the system's own process: "
                               "loaded = after loading, after_latency = after the batch-1 latency runs, "
                               "after_speed = after batched throughput too, end = after accuracy; "
                               "resident_after_speed = the resident set then (psutil; node: memoryUsage); "
                               "interpreter_baseline = the bare worker process"},
            "measure_process_wall_s": round(measured.get("process_wall_s", 0.0), 2)}


def _more_speed_rounds(report: Dict[str, Any], paths: Dict[str, str], cfg: BenchConfig, plan: Plan,
                       steps: _Steps, log: Log) -> None:
    """Timing rounds 2..N, each system in a fresh process, the order rotating from round to round:
    the machine's drift then lands on every system alike, and each figure becomes the best over the
    rounds (:func:`stats.combine_speed_rounds`)."""
    names = [n for n in cfg.systems if report["systems"][n].get("status") == "ok"]
    for round_index in range(1, plan.speed_rounds):
        shift = round_index % max(len(names), 1)
        for name in names[shift:] + names[:shift]:
            steps.start(f"{name}: timing round {round_index + 1}/{plan.speed_rounds} (fresh process)")
            measured = run_worker("speed", _spec_for(name, paths, cold=False), name, cfg.threads,
                                  plan.worker_timeout)
            steps.finish()
            system = report["systems"][name]
            if measured.get("status") != "ok":
                log(f"{name}: timing round {round_index + 1}: {measured['status']}: {measured['reason']}")
                system["notes"].append(f"timing round {round_index + 1} {measured['status']}: {measured['reason']}")
                continue
            system["speed_rounds"].append(speed_figures(measured))
    for name in names:
        combine_speed_rounds(report["systems"][name])
