"""Output side of bulk conversion: shard files written atomically, and the manifest of what is done.

A shard file appears under its final name only complete: it is written to a temporary name in the
same folder, flushed to disk, then renamed. The manifest (``manifest.ndjson`` in the output folder)
is append-only JSON lines: a header with the run's options, then one entry per finished shard,
written after its file is in place, then a closing summary. A kill can lose at most the last
entry's line (a torn line is ignored on reading), so a shard is either recorded and complete, or
redone on ``--resume``; never recorded twice, never half written.
"""
from __future__ import annotations

import json
import os
from typing import Dict, List, Optional, Tuple

MANIFEST = "manifest.ndjson"  # not *.jsonl, so a glob for JSON-lines shards never picks it up
SCHEMA = 1
TMP_MARK = ".tmp-"


class ManifestError(ValueError):
    pass


def shard_name(rel: str, index: int, extension: str) -> str:
    """``sub/a.jsonl.gz``, shard 3 -> ``sub/a.00003.jsonl``."""
    stem = rel[:-3] if rel.endswith(".gz") else rel
    if stem.endswith(extension):
        stem = stem[:-len(extension)]
    return f"{stem}.{index:05d}{extension}"


def _fsync_dir(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: str, data: bytes) -> None:
    """``path`` holds ``data`` entirely or does not change (temporary file, fsync, rename)."""
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    tmp = f"{path}{TMP_MARK}{os.getpid()}"
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(folder)


def remove_temporaries(out_dir: str) -> int:
    """Delete temporary files an interrupted run left behind; their shards are redone."""
    removed = 0
    for root, _dirs, files in os.walk(out_dir):
        for name in files:
            if TMP_MARK in name:
                os.unlink(os.path.join(root, name))
                removed += 1
    return removed


class Manifest:
    """The done-list of one output folder."""

    def __init__(self, out_dir: str, options: dict, shards: Dict[str, dict], complete: Optional[dict]):
        self.out_dir, self.options, self.shards, self.complete = out_dir, options, shards, complete
        self.path = os.path.join(out_dir, MANIFEST)

    @classmethod
    def load(cls, out_dir: str) -> Optional["Manifest"]:
        path = os.path.join(out_dir, MANIFEST)
        if not os.path.exists(path):
            return None
        with open(path, "rb") as handle:
            data = handle.read()
        lines = data.split(b"\n")
        if lines.pop():  # a line torn by a kill: drop it, so the next entry starts on a line of its own
            with open(path, "r+b") as handle:
                handle.truncate(len(data) - len(data.rsplit(b"\n", 1)[-1]))
        options, shards, complete = None, {}, None
        for number, line in enumerate(lines, 1):
            try:
                entry = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise ManifestError(f"{path} line {number}: corrupt manifest entry; "
                                    f"convert into a new output folder") from None
            if number == 1:
                if not isinstance(entry, dict) or entry.get("pinyin_edge_bulk") != SCHEMA:
                    raise ManifestError(f"{path}: not a pinyin-edge bulk manifest (schema {SCHEMA})")
                options = entry["options"]
            elif "shard" in entry:
                shards[entry["shard"]] = entry
                complete = None
            elif "complete" in entry:
                complete = entry
        if options is None:
            raise ManifestError(f"{path}: empty manifest; convert into a new output folder")
        return cls(out_dir, options, shards, complete)

    @classmethod
    def create(cls, out_dir: str, options: dict) -> "Manifest":
        manifest = cls(out_dir, options, {}, None)
        write_atomic(manifest.path, (json.dumps({"pinyin_edge_bulk": SCHEMA, "options": options},
                                                ensure_ascii=False) + "\n").encode("utf-8"))
        return manifest

    def done(self, shard: str, signature: List[int]) -> Optional[dict]:
        """The entry of a shard finished from this very version of its input, if any."""
        entry = self.shards.get(shard)
        if entry is not None and entry["signature"] == signature \
                and os.path.isfile(os.path.join(self.out_dir, shard)):
            return entry
        return None

    def stale(self, rel: str, signature: List[int]) -> List[str]:
        """Shards made from an earlier version of input ``rel``."""
        return [name for name, e in self.shards.items() if e["input"] == rel and e["signature"] != signature]

    def _append(self, entry: dict) -> None:
        with open(self.path, "ab") as handle:
            handle.write((json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())

    def record(self, entry: dict) -> None:
        self._append(entry)
        self.shards[entry["shard"]] = entry
        self.complete = None

    def close(self, summary: dict) -> None:
        entry = dict(summary, complete=True)
        self._append(entry)
        self.complete = entry


def differences(old: dict, new: dict) -> List[Tuple[str, object, object]]:
    return [(key, old.get(key), new.get(key)) for key in sorted(set(old) | set(new)) if old.get(key) != new.get(key)]
