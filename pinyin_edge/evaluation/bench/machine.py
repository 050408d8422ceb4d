"""Where and with what a run was measured: the machine (psutil), library versions, the git commit, a
bundle's manifest, sizes on disk, and a process's own peak RSS."""
from __future__ import annotations

import os
import sys
from typing import Any, Dict, List, Optional

CPU_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8", "fma", "sse4_2", "asimd")
LIBRARIES = ("pinyin-edge", "numpy", "onnxruntime", "pypinyin", "g2pM", "torch", "transformers", "click",
             "psutil", "matplotlib")


def peak_rss_mb() -> float:
    """This process's peak RSS in MB: ``ru_maxrss`` where the OS keeps it, else psutil's peak working
    set (Windows)."""
    try:
        import resource
    except ImportError:  # Windows
        import psutil

        info = psutil.Process().memory_info()
        return round(getattr(info, "peak_wset", info.rss) / 2**20, 1)
    # Linux reports kilobytes, macOS bytes.
    scale = 1 / 1024 if sys.platform != "darwin" else 1 / 2**20
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale, 1)


def rss_now_mb() -> Optional[float]:
    """This process's resident set now (psutil), None without psutil."""
    try:
        import psutil
    except ImportError:
        return None
    return round(psutil.Process().memory_info().rss / 2**20, 1)


def _cpu_model_and_flags() -> Dict[str, Any]:
    """The CPU's model name and the flags that matter for int8 inference. psutil does not report
    them; Linux has them in /proc/cpuinfo, elsewhere ``platform.processor()`` names the CPU."""
    import platform

    info: Dict[str, Any] = {"cpu_model": platform.processor() or None}
    if not os.path.isfile("/proc/cpuinfo"):
        return info
    with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            key = key.strip()
            if key in ("model name", "Model") and "model_name_seen" not in info:
                info["cpu_model"], info["model_name_seen"] = value.strip(), True
            elif key in ("flags", "Features") and "cpu_flags" not in info:
                present = set(value.split())
                info["cpu_flags"] = [f for f in CPU_FLAGS if f in present]
    info.pop("model_name_seen", None)
    return info


def machine_info() -> Dict[str, Any]:
    import platform

    import psutil

    info: Dict[str, Any] = {"platform": platform.platform(), "machine": platform.machine(),
                            "logical_cpus": psutil.cpu_count(logical=True),
                            "physical_cpus": psutil.cpu_count(logical=False),
                            "memory_mb": round(psutil.virtual_memory().total / 2**20)}
    try:
        info["usable_cpus"] = len(psutil.Process().cpu_affinity())
    except (AttributeError, psutil.Error):  # macOS has no affinity
        info["usable_cpus"] = info["logical_cpus"]
    info.update(_cpu_model_and_flags())
    return info


def loadavg() -> Optional[List[float]]:
    import psutil

    try:
        return [round(x, 2) for x in psutil.getloadavg()]
    except (AttributeError, OSError):
        return None


def library_versions() -> Dict[str, Optional[str]]:
    import platform
    from importlib import metadata

    out: Dict[str, Optional[str]] = {"python": f"{platform.python_implementation()} {platform.python_version()}"}
    for dist in LIBRARIES:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def package_root() -> str:
    """The folder that holds ``pinyin_edge/`` (a checkout, or site-packages)."""
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.dirname(os.path.dirname(os.path.dirname(here)))


def checkout_root() -> Optional[str]:
    """The repository this package runs from, None when it runs from an installed wheel."""
    root = package_root()
    return root if os.path.isfile(os.path.join(root, "pyproject.toml")) else None


def git_info(root: Optional[str]) -> Optional[Dict[str, Any]]:
    import subprocess

    if root is None:
        return None
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


def dir_bytes(path: str, skip=("__pycache__", "node_modules")) -> int:
    total = 0
    for root, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if d not in skip]
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files
                     if not os.path.islink(os.path.join(root, f)))
    return total


def package_dir(module: str) -> Optional[str]:
    import importlib.util

    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)[0]


def manifest_summary(bundle_dir: str) -> Dict[str, Any]:
    from ...bundle import read_manifest, sha256_file

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
        "provenance": {k: manifest.provenance.get(k) for k in ("checkpoint", "base_model", "step")
                       if k in manifest.provenance},
        "metrics": {k: v for k, v in manifest.metrics.items() if k in ("dev", "size_bytes")},
    }
