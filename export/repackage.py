"""Re-package a schema-version-1 bundle (one manifest.json holding the dictionary and the model card)
as the current format (pinyin_edge/bundle.py, docs/bundle-format.md). The graph is copied unchanged;
the vocabulary, labels, candidates, policy and dictionary keep their values, so outputs do not change.

    python export/repackage.py OLD_BUNDLE --out NEW_BUNDLE --recipe export/recipe.env \\
        --commit $(git log -1 --format=%H -- OLD_BUNDLE/model.onnx) --data ../shared/data

Paths recorded by the old exporter become file names, with the sha256 of each file found (as given,
or under --data); the build machine's folders are dropped.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys

from pinyin_edge.bundle import (
    BundleError,
    Manifest,
    TokenizerSpec,
    load_bundle,
    portable_name,
    sha256_file,
    write_bundle,
)

_PATH = re.compile(r"(?<![\w/.])(?:/|\.\./|runs/)(?:[^\s,;()/]+/)*([^\s,;()/]+)")


class Portable:
    def __init__(self, data_root):
        self.index = {}
        if data_root:
            for folder, _, names in os.walk(data_root):
                for name in names:
                    self.index.setdefault(name, os.path.join(folder, name))

    def record(self, path: str) -> dict:
        name = os.path.basename(os.path.normpath(path))
        found = path if os.path.isfile(path) else self.index.get(name)
        return {"file": name, "sha256": sha256_file(found)} if found else {"file": name}

    def text(self, value: str) -> str:
        return _PATH.sub(lambda m: m.group(1), value)

    def value(self, value, key=""):
        """Path lists -> data records; embedded paths -> file names."""
        if isinstance(value, dict):
            return {k: self.value(v, k) for k, v in value.items() if k != "bundle"}
        if isinstance(value, list):
            if value and all(isinstance(v, str) and "/" in v and " " not in v for v in value):
                return [self.record(v) for v in value]
            return [self.value(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value


def repackage(old: str, out: str, recipe: str, commit: str, data_root: str = None) -> Manifest:
    with open(os.path.join(old, "manifest.json"), encoding="utf-8") as handle:
        data = json.load(handle)
    if data.get("schema_version") != 1:
        raise BundleError(f"{old}: schema_version {data.get('schema_version')!r}: only version 1 is re-packaged")
    graph = os.path.join(old, data["graph_file"])
    if sha256_file(graph) != data["graph_sha256"]:
        raise BundleError(f"{graph}: sha256 does not match its manifest")
    portable = Portable(data_root)
    source = data.get("source") or {}

    def run_name(path):  # a checkpoint directory: its run and its step folder
        return None if path is None else "/".join(os.path.normpath(path).split(os.sep)[-2:])

    provenance = {
        "recipe": recipe, "commit": commit,
        "checkpoint": run_name(source.get("checkpoint")), "base_model": portable_name(source.get("base_model")),
        "step": source.get("step"),
        "averaged_from": [run_name(p) for p in source.get("averaged_from") or []],
        "data": {k: [portable.record(p) for p in source.get(k) or []] for k in ("train", "weak", "dev")},
    }
    manifest = Manifest(
        vocab=data["vocab"], labels=data["labels"], candidates=data["candidates"],
        max_length=data["max_length"], graph_file=data["graph_file"],
        tokenizer=TokenizerSpec(**data["tokenizer"]), quantization=data["quantization"],
        provenance=provenance, metrics=portable.value(data["metrics"]),
        model_card=portable.value(data.get("model_card") or {}), dictionary=data["dictionary"],
        phrases=data["phrases"],
        phrase_word_exceptions=data["phrase_word_exceptions"], context=data["context"])
    write_bundle(out, manifest, graph)
    new, _ = load_bundle(out)
    if new.dictionary != data["dictionary"] or new.candidates != data["candidates"]:
        raise BundleError(f"{out}: the re-packaged dictionary or candidates differ")
    return new


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle")
    parser.add_argument("--out", required=True)
    parser.add_argument("--recipe", required=True, help="the recipe file that built the weights")
    parser.add_argument("--commit", required=True, help="the repository commit the weights were built from")
    parser.add_argument("--data", default=None, help="folder holding the data files, for their sha256")
    args = parser.parse_args(argv)
    try:
        repackage(args.bundle, args.out, args.recipe, args.commit, args.data)
    except BundleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.out}: re-packaged", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
