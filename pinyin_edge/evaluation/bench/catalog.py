"""What each system of the benchmark runs on (bundle, checkpoint, package, npm peer), its size on disk,
or why it is skipped; and pinyin-edge's dictionary cache, which the edge systems load."""
from __future__ import annotations

import os
import subprocess
import sys
from typing import Any, Callable, Dict, Optional

from . import node as node_peers
from .machine import dir_bytes, manifest_summary, package_dir

PYTHON_SYSTEMS = ("edge", "edge-fp32", "torch", "pypinyin", "g2pm")
SYSTEM_NAMES = PYTHON_SYSTEMS + node_peers.NODE_SYSTEMS
NO_BATCH_API = ("pypinyin", "g2pm") + node_peers.NODE_SYSTEMS

Log = Callable[[str], None]


def resolve_systems(cfg, log: Log, node: Optional[Dict[str, Any]] = None) -> Dict[str, Dict[str, Any]]:
    """Per system of ``cfg`` (a runner.BenchConfig): what it runs on (``model``), its size on disk, or
    why it is skipped; ``node``: what node.prepare() found."""
    import importlib.util

    from ...bundle import BundleError, resolve_bundle

    def find(module: str) -> bool:
        try:
            return importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            return False

    systems: Dict[str, Dict[str, Any]] = {}
    edge_manifest = None
    for name in cfg.systems:
        entry: Dict[str, Any] = {"notes": []}
        systems[name] = entry
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
                source = (edge_manifest.get("provenance") or {}).get("checkpoint")
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
            if systems.get("edge", {}).get("model"):
                entry["policy_of"] = systems["edge"]["model"]  # the same phrase policy as the bundle
            entry.update(model=path, label="torch (PyTorch original)",
                         size={"bytes": dir_bytes(weights) if os.path.isdir(weights) else os.path.getsize(weights),
                               "what": "checkpoint folder (fp32 encoder + head + tokenizer)", "path": weights})
        elif name == "pypinyin":
            entry["label"] = "pypinyin"
            folder = package_dir("pypinyin")
            if folder:
                data = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder)
                           if f.endswith(".json"))
                entry["size"] = {"bytes": data, "what": "dictionary data (*.json in the package)",
                                 "package_bytes": dir_bytes(folder)}
        elif name == "g2pm":
            if not find("g2pM"):
                entry["skip"] = "g2pM is not installed: pip install 'pinyin-edge[bench]'"
                continue
            entry["label"] = "g2pM"
            folder = package_dir("g2pM")
            if folder:
                entry["size"] = {"bytes": dir_bytes(folder), "what": "package directory (without __pycache__)"}
        elif name in node_peers.NODE_SYSTEMS:
            if node is None or "skip" in node:
                entry["skip"] = (node or {}).get("skip", "node peers not prepared")
                continue
            package = node_peers.PACKAGES[name]
            entry["label"] = f"{package} {node['versions'][package]} (node)"
            entry["size"] = node_peers.package_size(node["dir"], name)
            if name == "napi-pinyin":
                entry["notes"].append("called with segment: true, segmenter: 'phrase' (its contextual readings)")
        else:
            raise ValueError(f"unknown system {name!r}; choose from: {', '.join(SYSTEM_NAMES)}")
        if name in NO_BATCH_API:
            entry["notes"].append("no batch API: its batched figure is its one-call loop")
    return systems


def _quant_label(summary: Dict[str, Any]) -> str:
    mode = str((summary.get("quantization") or {}).get("mode", "none")).lower()
    return "fp32" if mode in ("none", "", "fp32") else mode


def prepare_dictionary_cache(log: Log, env: Dict[str, str]) -> Dict[str, Any]:
    """Make sure pypinyin's compiled dictionaries are cached (as after any first use), and time a
    compile from scratch: the one-off cost of the first process after an install."""
    from ...dictionaries import cache_path, dictionaries

    path = cache_path()
    existed = bool(path) and os.path.isfile(path)
    dictionaries()  # reads the cache, or compiles and writes it
    # A fresh process, pypinyin's import included: what the first start after an install pays.
    probe = ("import time; t = time.perf_counter(); from pinyin_edge.dictionaries import compile_dictionaries; "
             "compile_dictionaries(); print(time.perf_counter() - t)")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, env=env)
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


def cache_note(cache: Dict[str, Any]) -> str:
    if not cache.get("path"):
        return f"dictionary cache off: every process compiles pypinyin's tables ({_seconds(cache['compile_s'])})"
    return (f"cold start loads pypinyin's dictionaries from pinyin-edge's cache; the first process after an "
            f"install compiles them once ({_seconds(cache['compile_s'])} more, in a fresh process)")
