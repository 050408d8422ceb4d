"""The JavaScript peers (pinyin-pro, @napi-rs/pinyin): measured when ``node`` is on PATH and npm can
install them, through ``node/worker.js`` on the same inputs as the Python systems; skipped with the
reason otherwise. The npm packages go to a cache folder (never into the repository)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from typing import Any, Callable, Dict, List, Optional, Tuple

NODE_SYSTEMS = ("pinyin-pro", "napi-pinyin")
PACKAGES = {"pinyin-pro": "pinyin-pro", "napi-pinyin": "@napi-rs/pinyin"}
HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node")
WORKER = os.path.join(HERE, "worker.js")
INSTALL_TIMEOUT = 300.0
NODE_DIR_ENV = "PINYIN_EDGE_BENCH_NODE"


def node_dir() -> str:
    """Where the npm packages are installed: ``$PINYIN_EDGE_BENCH_NODE``, else beside pinyin-edge's
    dictionary cache, else in the temporary folder."""
    from ...dictionaries import cache_dir

    return os.environ.get(NODE_DIR_ENV) or os.path.join(cache_dir() or tempfile.gettempdir(), "bench-node")


def _wanted() -> Dict[str, str]:
    with open(os.path.join(HERE, "package.json"), encoding="utf-8") as handle:
        return json.load(handle)["dependencies"]


def installed_versions(folder: str) -> Dict[str, Optional[str]]:
    out: Dict[str, Optional[str]] = {}
    for package in _wanted():
        try:
            with open(os.path.join(folder, "node_modules", *package.split("/"), "package.json"),
                      encoding="utf-8") as handle:
                out[package] = json.load(handle).get("version")
        except (OSError, ValueError):
            out[package] = None
    return out


def prepare(log: Callable[[str], None]) -> Dict[str, Any]:
    """``{"node": version, "dir": folder, "versions": {...}}``, or ``{"skip": reason}``."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None:
        return {"skip": "node is not on PATH"}
    try:
        version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return {"skip": f"node --version failed: {exc}"}
    folder = node_dir()
    wanted = _wanted()
    if installed_versions(folder) != wanted:
        if npm is None:
            return {"skip": "npm is not on PATH (needed once, to install the peers)"}
        os.makedirs(folder, exist_ok=True)
        shutil.copyfile(os.path.join(HERE, "package.json"), os.path.join(folder, "package.json"))
        log(f"node peers: npm install {' '.join(f'{p}@{v}' for p, v in wanted.items())} into {folder}")
        try:
            proc = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--no-package-lock",
                                   "--fetch-retries=1"], cwd=folder, capture_output=True, text=True,
                                  timeout=INSTALL_TIMEOUT)
        except (OSError, subprocess.SubprocessError) as exc:  # a timeout included: no registry
            return {"skip": f"npm install failed: {exc}"}
        if proc.returncode != 0 or installed_versions(folder) != wanted:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            return {"skip": f"npm install failed (registry unreachable?): {last}"}
    return {"node": version, "dir": folder, "versions": dict(wanted)}


def package_size(folder: str, name: str) -> Dict[str, Any]:
    """What a peer runs from: pinyin-pro's package; for @napi-rs/pinyin its platform binary package
    (``@napi-rs/pinyin-<platform>``: the main package holds the Rust sources)."""
    from .machine import dir_bytes

    modules = os.path.join(folder, "node_modules")
    if name == "napi-pinyin":
        scope = os.path.join(modules, "@napi-rs")
        binaries = [os.path.join(scope, d) for d in sorted(os.listdir(scope)) if d.startswith("pinyin-")]
        return {"bytes": sum(dir_bytes(b) for b in binaries),
                "what": "native binary package (" + ", ".join("@napi-rs/" + os.path.basename(b) for b in binaries)
                        + ")"}
    return {"bytes": dir_bytes(os.path.join(modules, *PACKAGES[name].split("/"))), "what": "npm package folder"}


def worker_command(mode: str, spec_path: str, out_path: str, name: str) -> List[str]:
    return [shutil.which("node") or "node", WORKER, mode, spec_path, out_path, name]


def align(text: str, items: List[str]) -> Optional[List[str]]:
    """One canonical item per character of ``text`` from an engine's output, which may group a run
    of non-Han characters into one item; None when the output does not line up with the text."""
    from ...readings import is_han
    from ..systems import canonical

    out: List[str] = []
    i = 0
    for item in items:
        if i < len(text) and is_han(text[i]) and not text.startswith(item, i):
            out.append(canonical(text[i], item))
            i += 1
        elif item and text.startswith(item, i):  # text kept as it is (non-Han, or an unknown character)
            out.extend(text[i:i + len(item)])
            i += len(item)
        else:
            return None
    return out if i == len(text) else None


def readings_table(texts: List[str], outputs: List[List[str]]) -> Tuple[Dict[str, List[str]], int]:
    """Per text, its canonical readings; a text whose output does not line up reads every character
    as ``?`` (scored wrong, counted)."""
    table, misaligned = {}, 0
    for text, items in zip(texts, outputs):
        aligned = align(text, items)
        if aligned is None:
            misaligned += 1
            aligned = ["?"] * len(text)
        table[text] = aligned
    return table, misaligned
