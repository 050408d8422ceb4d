"""The bulk run: read inputs in shards, convert them in worker processes, record what is done.

The main process reads each input once, in order, cutting it into shards of ``shard_lines`` lines,
and hands at most ``2 * workers`` shards at a time to a pool of ``workers`` processes (so memory
stays bounded by the shard size, whatever the corpus size). Each worker loads the model bundle once
(:func:`_init_worker`), parses, converts and writes its shard atomically, and answers with counts and
bad lines; the main process records the shard in the manifest and draws the progress line. Shards
already recorded for the same version of their input are skipped, so an interrupted run (Ctrl-C, a
killed worker, a killed main process) continues with ``resume=True`` and writes every line once.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict
from typing import Dict, List, Optional, Sequence, TextIO

from . import readers, shards
from .readers import BadLine, Spec

_BATCH = 256           # texts per pinyin_batch call, as `convert` uses
_SHOWN_BAD_LINES = 100  # bad lines printed on stderr; all of them are in the manifest


class BulkError(ValueError):
    """A run that cannot start or continue; the message is one line for the user."""


# -- worker side -----------------------------------------------------------------------------------------

_G2P = None
_OPTIONS: dict = {}


def _init_worker(model: str, threads: int, overrides: Optional[str], options: dict) -> None:
    global _G2P, _OPTIONS
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process handles Ctrl-C for the run
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    from ..runtime.g2p import G2P

    _G2P = G2P(model=model, threads=threads, overrides=overrides)
    _OPTIONS = options


def _exit_with_parent(parent: int) -> None:
    """A killed main process leaves its workers blocked on the task queue: end them too."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def convert_texts(g2p, texts: List[str], style: str, tone_sandhi: bool) -> List[Optional[List[str]]]:
    """Items per text; None for a text the model refuses (so one bad text cannot sink its batch)."""
    out: List[Optional[List[str]]] = []
    for start in range(0, len(texts), _BATCH):
        group = texts[start:start + _BATCH]
        try:
            out.extend(g2p.pinyin_batch(group, style=style, tone_sandhi=tone_sandhi))
        except ValueError:
            for text in group:
                try:
                    out.append(g2p.pinyin(text, style=style, tone_sandhi=tone_sandhi))
                except ValueError:
                    out.append(None)
    return out


def convert_shard(task: dict) -> dict:
    """Convert one shard and write it; ``task``: out_dir, shard, first_line, lines, spec, column,
    on_error. Returns counts and bad lines; with on_error "fail" a bad line stops before writing."""
    spec = Spec(**task["spec"])
    first, lines, column = task["first_line"], task["lines"], task["column"]
    fail = task["on_error"] == "fail"
    bad: List[list] = []
    parsed = []  # (line number, text, record) of usable lines, in order
    head = b""
    for offset, raw in enumerate(lines):
        number = first + offset
        if spec.header and number == 1:
            head = (readers.decode(raw) + "\t" + spec.output_field + "\n").encode("utf-8")
            continue
        try:
            item = readers.parse(raw, spec, column)
        except BadLine as exc:
            bad.append([number, str(exc)])
            if fail:
                return {"bad": bad, "failed": True}
            continue
        if item is not None:
            parsed.append((number, item[0], item[1]))
    results = convert_texts(_G2P, [text for _, text, _ in parsed], _OPTIONS["style"], _OPTIONS["tone_sandhi"])
    out = [head]
    chars = 0
    for (number, text, record), items in zip(parsed, results):
        try:
            if items is None:
                raise BadLine("the converter refused this text")
            out.append(readers.render(text, record, items, spec))
            chars += len(text)
        except BadLine as exc:
            bad.append([number, str(exc)])
            if fail:
                return {"bad": bad, "failed": True}
    shards.write_atomic(os.path.join(task["out_dir"], task["shard"]), b"".join(out))
    return {"bad": bad, "failed": False, "written": len(out) - 1 + bool(head), "chars": chars}


# -- main side -------------------------------------------------------------------------------------------

def _eta(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class _Meter:
    """The progress line: input bytes done, characters per second, ETA."""

    def __init__(self, total_bytes: int, enabled: bool, stream: TextIO):
        from ..progress import Progress

        self.progress = Progress(max(total_bytes, 1), "convert", stream=stream, enabled=enabled and total_bytes > 0,
                                 unit="bytes")
        self.start = time.perf_counter()
        self.bytes = self.chars = 0
        self.total = total_bytes

    def add(self, nbytes: int, chars: int, force: bool = False) -> None:
        self.bytes += nbytes
        self.chars += chars
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        rate = self.bytes / elapsed
        eta = _eta((self.total - self.bytes) / rate) if rate > 0 else "?"
        done = self.bytes if force else min(self.bytes, self.progress.total - 1)  # 100% is drawn once, at the end
        self.progress.update(done,
                             f"{self.chars / elapsed:,.0f} chars/s, ETA {eta}", force=force)


def run(inputs: Sequence[str], out_dir: str, *, spec: Spec, style: str = "tone3", tone_sandhi: bool = False,
        model: str, threads: int = 1, overrides: Optional[str] = None, workers: int = 1, resume: bool = False,
        on_error: str = "fail", shard_lines: int = 10000, progress: bool = True,
        stream: Optional[TextIO] = None) -> Dict[str, int]:
    """Convert ``inputs`` (files and folders) into shards under ``out_dir``; returns the totals.

    ``model``: a bundle directory; ``overrides``: an overrides file. Raises BulkError (and
    readers.InputError / shards.ManifestError, both ValueError) with a one-line message."""
    stream = stream if stream is not None else sys.stderr
    if workers < 1:
        raise BulkError(f"--workers must be >= 1, got {workers}")
    if shard_lines < 1:
        raise BulkError(f"--shard-lines must be >= 1, got {shard_lines}")
    if on_error not in ("skip", "fail"):
        raise BulkError(f"--on-error takes skip or fail, got {on_error!r}")
    files = readers.discover(inputs)
    names: Dict[str, str] = {}
    for f in files:
        first = names.setdefault(shards.shard_name(f.rel, 0, spec.extension), f.path)
        if first != f.path:
            raise BulkError(f"{first} and {f.path} would write the same output shards; rename one or "
                            f"convert them in separate runs")
    columns = {f.path: readers.header_column(f.path, spec.column_name)[0] for f in files} if spec.header else {}
    options = {"inputs": [os.path.abspath(p) for p in inputs], "spec": asdict(spec), "style": style,
               "tone_sandhi": tone_sandhi, "model": os.path.abspath(model),
               "overrides": os.path.abspath(overrides) if overrides else None, "shard_lines": shard_lines}

    manifest = _open_manifest(out_dir, options, resume)
    shards.remove_temporaries(out_dir)
    signatures = {f.path: f.signature() for f in files}
    for f in files:
        for name in manifest.stale(f.rel, signatures[f.path]):
            try:
                os.unlink(os.path.join(out_dir, name))
            except FileNotFoundError:
                pass
    current = {f.rel: signatures[f.path] for f in files}
    resumed = sum(e["bytes"] for e in manifest.shards.values()
                  if e["input"] in current and manifest.done(e["shard"], current[e["input"]]))
    total_bytes = sum(s[0] for s in signatures.values())
    meter = _Meter(total_bytes - resumed, progress, stream)
    totals = {"files": len(files), "shards": 0, "lines": 0, "written": 0, "chars": 0, "bad_lines": 0,
              "resumed_shards": 0}
    shown = [0]

    def finish(info: dict, result: dict) -> None:
        for number, reason in result["bad"]:
            if result["failed"]:
                raise BulkError(f"{info['path']} line {number}: {reason}; fix the line or pass --on-error skip, "
                                f"then run the same command with --resume")
            if shown[0] < _SHOWN_BAD_LINES:
                stream.write(f"warning: {info['path']} line {number}: {reason}; skipped\n")
            elif shown[0] == _SHOWN_BAD_LINES:
                stream.write(f"warning: more bad lines skipped; all are listed in {manifest.path}\n")
            shown[0] += 1
        entry = {"shard": info["shard"], "input": info["rel"], "signature": info["signature"],
                 "index": info["index"], "first_line": info["first_line"], "lines": info["lines"],
                 "written": result["written"], "chars": result["chars"], "bytes": info["bytes"],
                 "bad_lines": result["bad"]}
        manifest.record(entry)
        _count(totals, entry)
        meter.add(info["bytes"], result["chars"])

    context = multiprocessing.get_context("spawn")  # the main process may hold onnxruntime threads
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker,
                               initargs=(os.path.abspath(model), threads, overrides,
                                         {"style": style, "tone_sandhi": tone_sandhi}))
    pending: Dict[object, dict] = {}
    try:
        for f in files:
            sig = signatures[f.path]
            for index, first, lines, nbytes in readers.read_shards(f.path, shard_lines):
                name = shards.shard_name(f.rel, index, spec.extension)
                done = manifest.done(name, sig)
                if done is not None:
                    _count(totals, done)
                    totals["resumed_shards"] += 1
                    continue
                info = {"path": f.path, "rel": f.rel, "signature": sig, "shard": name, "index": index,
                        "first_line": first, "lines": len(lines), "bytes": nbytes}
                task = {"out_dir": out_dir, "shard": name, "first_line": first, "lines": lines,
                        "spec": asdict(spec), "column": columns.get(f.path), "on_error": on_error}
                pending[pool.submit(convert_shard, task)] = info
                while len(pending) >= 2 * workers:
                    _collect(pending, finish, FIRST_COMPLETED)
        while pending:
            _collect(pending, finish, FIRST_COMPLETED)
    except BrokenProcessPool:
        raise BulkError(f"a worker process died; the {len(manifest.shards)} finished shards are kept in "
                        f"{out_dir}: run the same command with --resume to finish") from None
    except KeyboardInterrupt:
        raise BulkError(f"interrupted; the {len(manifest.shards)} finished shards are kept in {out_dir}: "
                        f"run the same command with --resume to finish") from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    meter.add(0, 0, force=True)
    meter.progress.close()
    manifest.close(totals)
    return totals


def _collect(pending: dict, finish, how) -> None:
    done, _ = wait(list(pending), return_when=how)
    for future in done:
        info = pending.pop(future)
        finish(info, future.result())


def _count(totals: dict, entry: dict) -> None:
    totals["shards"] += 1
    totals["lines"] += entry["lines"]
    totals["written"] += entry["written"]
    totals["chars"] += entry["chars"]
    totals["bad_lines"] += len(entry["bad_lines"])


def _open_manifest(out_dir: str, options: dict, resume: bool) -> shards.Manifest:
    existing = shards.Manifest.load(out_dir) if os.path.isdir(out_dir) else None
    if existing is None:
        if resume and os.path.isdir(out_dir) and os.listdir(out_dir):
            raise BulkError(f"{out_dir}: no {shards.MANIFEST} to resume from; is this a bulk output folder?")
        if os.path.isdir(out_dir) and os.listdir(out_dir):
            raise BulkError(f"{out_dir} is not empty; choose a new or empty output folder")
        os.makedirs(out_dir, exist_ok=True)
        return shards.Manifest.create(out_dir, options)
    if not resume:
        raise BulkError(f"{out_dir} already holds a conversion; pass --resume to continue it, "
                        f"or choose a new output folder")
    changed = shards.differences(existing.options, options)
    if changed:
        key, old, new = changed[0]
        raise BulkError(f"{out_dir} was converted with other options ({key}: {old!r} then, {new!r} now); "
                        f"resume with the same options or choose a new output folder")
    return existing
